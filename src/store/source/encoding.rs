//! Legacy Vietnamese text encodings of attribute data.
//!
//! Survey contractors' Shapefiles often carry DBF text in one of the
//! pre-Unicode Vietnamese encodings. The importer reads every DBF string
//! field as raw bytes (losslessly, by opening the file as ISO-8859-1 so that
//! each char U+0000–U+00FF stands for one byte) and turns them into NFC
//! Unicode here:
//!
//! * **TCVN3** (ABC, TCVN 5712:1993 VN3): one byte per letter; all 67
//!   lowercase toned or modified letters and only the capitals
//!   Ă Â Ê Ô Ơ Ư Đ. Capital toned letters do not exist: "H" fonts such as
//!   .VnTimeH draw the lowercase bytes as capitals.
//! * **VNI-Windows**: a base letter byte followed by one mark byte (tone,
//!   or modifier and tone); ơ ư đ and the toned i and ỵ are single bytes.
//! * **Windows-1258**: base letters plus combining tone marks, with a few
//!   precomposed letters (â ê ô ơ ư ă đ and the Latin-1 ones).
//! * **UTF-8**, sometimes decomposed (NFD).
//!
//! [`detect`] guesses the encoding of a file's strings by decoding them in
//! every candidate and counting the words that are valid Vietnamese
//! syllables.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::char::{
    canonical_combining_class, compose, decompose_canonical, is_combining_mark,
};
use unicode_normalization::UnicodeNormalization;

/// A text encoding of attribute data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// UTF-8; decomposed (NFD) text is accepted and recomposed to NFC.
    Utf8,
    /// TCVN3 (ABC, TCVN 5712:1993 VN3): single byte, lowercase toned letters
    /// and the capitals Ă Â Ê Ô Ơ Ư Đ only.
    Tcvn3,
    /// VNI-Windows: base letter byte followed by a diacritic byte.
    Vni,
    /// Windows-1258 (CP1258): base letters with combining tone marks.
    Cp1258,
}

impl TextEncoding {
    /// The canonical short name: `"utf8"`, `"tcvn3"`, `"vni"` or `"cp1258"`.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf8",
            TextEncoding::Tcvn3 => "tcvn3",
            TextEncoding::Vni => "vni",
            TextEncoding::Cp1258 => "cp1258",
        }
    }

    /// Parses a name case-insensitively (surrounding blanks ignored): the
    /// canonical names plus the aliases `utf-8`, `abc`, `tcvn`, `vni-win`,
    /// `vni-windows`, `windows-1258` and `1258`.
    pub fn parse(s: &str) -> Option<TextEncoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" => Some(TextEncoding::Utf8),
            "tcvn3" | "tcvn" | "abc" => Some(TextEncoding::Tcvn3),
            "vni" | "vni-win" | "vni-windows" => Some(TextEncoding::Vni),
            "cp1258" | "windows-1258" | "1258" => Some(TextEncoding::Cp1258),
            _ => None,
        }
    }

    /// The name used in import report sentences.
    fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Tcvn3 => "TCVN3",
            TextEncoding::Vni => "VNI",
            TextEncoding::Cp1258 => "CP1258",
        }
    }
}

// ---------------------------------------------------------------------------
// Tables.
//
// Source of the TCVN3 and VNI-Windows mappings: the Vietnamese charset tables
// published at vietunicode.sourceforge.net (the same mappings as Unikey's
// vnconv), cross-checked against the TCVN 5712:1993 table of GNU libiconv
// for TCVN3. The tables below were written by hand from those published
// mappings; the tests pin them to independent, well-known strings.
// ---------------------------------------------------------------------------

/// The twelve Vietnamese vowel letters in lowercase, each row in tone order:
/// level (ngang), grave (huyền), acute (sắc), hook above (hỏi), tilde (ngã),
/// dot below (nặng).
const VOWELS: [[char; 6]; 12] = [
    ['a', 'à', 'á', 'ả', 'ã', 'ạ'],
    ['ă', 'ằ', 'ắ', 'ẳ', 'ẵ', 'ặ'],
    ['â', 'ầ', 'ấ', 'ẩ', 'ẫ', 'ậ'],
    ['e', 'è', 'é', 'ẻ', 'ẽ', 'ẹ'],
    ['ê', 'ề', 'ế', 'ể', 'ễ', 'ệ'],
    ['i', 'ì', 'í', 'ỉ', 'ĩ', 'ị'],
    ['o', 'ò', 'ó', 'ỏ', 'õ', 'ọ'],
    ['ô', 'ồ', 'ố', 'ổ', 'ỗ', 'ộ'],
    ['ơ', 'ờ', 'ớ', 'ở', 'ỡ', 'ợ'],
    ['u', 'ù', 'ú', 'ủ', 'ũ', 'ụ'],
    ['ư', 'ừ', 'ứ', 'ử', 'ữ', 'ự'],
    ['y', 'ỳ', 'ý', 'ỷ', 'ỹ', 'ỵ'],
];

/// The same letters in uppercase, row for row.
const VOWELS_UPPER: [[char; 6]; 12] = [
    ['A', 'À', 'Á', 'Ả', 'Ã', 'Ạ'],
    ['Ă', 'Ằ', 'Ắ', 'Ẳ', 'Ẵ', 'Ặ'],
    ['Â', 'Ầ', 'Ấ', 'Ẩ', 'Ẫ', 'Ậ'],
    ['E', 'È', 'É', 'Ẻ', 'Ẽ', 'Ẹ'],
    ['Ê', 'Ề', 'Ế', 'Ể', 'Ễ', 'Ệ'],
    ['I', 'Ì', 'Í', 'Ỉ', 'Ĩ', 'Ị'],
    ['O', 'Ò', 'Ó', 'Ỏ', 'Õ', 'Ọ'],
    ['Ô', 'Ồ', 'Ố', 'Ổ', 'Ỗ', 'Ộ'],
    ['Ơ', 'Ờ', 'Ớ', 'Ở', 'Ỡ', 'Ợ'],
    ['U', 'Ù', 'Ú', 'Ủ', 'Ũ', 'Ụ'],
    ['Ư', 'Ừ', 'Ứ', 'Ử', 'Ữ', 'Ự'],
    ['Y', 'Ỳ', 'Ý', 'Ỷ', 'Ỹ', 'Ỵ'],
];

/// TCVN3 (VN3) bytes of [`VOWELS`], cell for cell (plain vowels are ASCII).
const TCVN3_VOWELS: [[u8; 6]; 12] = [
    [b'a', 0xB5, 0xB8, 0xB6, 0xB7, 0xB9], // a à á ả ã ạ
    [0xA8, 0xBB, 0xBE, 0xBC, 0xBD, 0xC6], // ă ằ ắ ẳ ẵ ặ
    [0xA9, 0xC7, 0xCA, 0xC8, 0xC9, 0xCB], // â ầ ấ ẩ ẫ ậ
    [b'e', 0xCC, 0xD0, 0xCE, 0xCF, 0xD1], // e è é ẻ ẽ ẹ
    [0xAA, 0xD2, 0xD5, 0xD3, 0xD4, 0xD6], // ê ề ế ể ễ ệ
    [b'i', 0xD7, 0xDD, 0xD8, 0xDC, 0xDE], // i ì í ỉ ĩ ị
    [b'o', 0xDF, 0xE3, 0xE1, 0xE2, 0xE4], // o ò ó ỏ õ ọ
    [0xAB, 0xE5, 0xE8, 0xE6, 0xE7, 0xE9], // ô ồ ố ổ ỗ ộ
    [0xAC, 0xEA, 0xED, 0xEB, 0xEC, 0xEE], // ơ ờ ớ ở ỡ ợ
    [b'u', 0xEF, 0xF3, 0xF1, 0xF2, 0xF4], // u ù ú ủ ũ ụ
    [0xAD, 0xF5, 0xF8, 0xF6, 0xF7, 0xF9], // ư ừ ứ ử ữ ự
    [b'y', 0xFA, 0xFD, 0xFB, 0xFC, 0xFE], // y ỳ ý ỷ ỹ ỵ
];

/// TCVN3 byte of đ.
const TCVN3_D_LOWER: u8 = 0xAE;

/// The only capitals with diacritics that TCVN3 (VN3) has.
const TCVN3_CAPITALS: [(char, u8); 7] = [
    ('Ă', 0xA1),
    ('Â', 0xA2),
    ('Ê', 0xA3),
    ('Ô', 0xA4),
    ('Ơ', 0xA5),
    ('Ư', 0xA6),
    ('Đ', 0xA7),
];

/// Decode-only leniency: bytes of the upper half that VN3 leaves unused but
/// TCVN 5712:1993 VN1 assigns (capital toned letters and, at 0xB0–0xB4,
/// combining tone marks). Encoding never produces them.
const TCVN3_VN1_EXTRA: [(u8, char); 21] = [
    (0xAF, 'Ằ'),
    (0xB0, '\u{300}'),
    (0xB1, '\u{309}'),
    (0xB2, '\u{303}'),
    (0xB3, '\u{301}'),
    (0xB4, '\u{323}'),
    (0xBA, 'Ẳ'),
    (0xBF, 'Ẵ'),
    (0xC0, 'Ắ'),
    (0xC1, 'Ầ'),
    (0xC2, 'Ẩ'),
    (0xC3, 'Ẫ'),
    (0xC4, 'Ấ'),
    (0xC5, 'Ề'),
    (0xCD, 'Ể'),
    (0xD9, 'Ễ'),
    (0xDA, 'Ế'),
    (0xDB, 'Ồ'),
    (0xE0, 'Ổ'),
    (0xF0, 'Ỗ'),
    (0xFF, 'Ố'),
];

/// VNI-Windows bytes of [`VOWELS`] (lowercase), cell for cell: a base byte
/// and a mark byte, or one byte and 0. The uppercase form of every byte is
/// its Latin-1 capital ([`vni_upper`]): "aù" á, "AÙ" Á.
#[rustfmt::skip]
const VNI_VOWELS: [[[u8; 2]; 6]; 12] = [
    [[b'a', 0], [b'a', 0xF8], [b'a', 0xF9], [b'a', 0xFB], [b'a', 0xF5], [b'a', 0xEF]],
    [[b'a', 0xEA], [b'a', 0xE8], [b'a', 0xE9], [b'a', 0xFA], [b'a', 0xFC], [b'a', 0xEB]],
    [[b'a', 0xE2], [b'a', 0xE0], [b'a', 0xE1], [b'a', 0xE5], [b'a', 0xE3], [b'a', 0xE4]],
    [[b'e', 0], [b'e', 0xF8], [b'e', 0xF9], [b'e', 0xFB], [b'e', 0xF5], [b'e', 0xEF]],
    [[b'e', 0xE2], [b'e', 0xE0], [b'e', 0xE1], [b'e', 0xE5], [b'e', 0xE3], [b'e', 0xE4]],
    [[b'i', 0], [0xEC, 0], [0xED, 0], [0xE6, 0], [0xF3, 0], [0xF2, 0]],
    [[b'o', 0], [b'o', 0xF8], [b'o', 0xF9], [b'o', 0xFB], [b'o', 0xF5], [b'o', 0xEF]],
    [[b'o', 0xE2], [b'o', 0xE0], [b'o', 0xE1], [b'o', 0xE5], [b'o', 0xE3], [b'o', 0xE4]],
    [[0xF4, 0], [0xF4, 0xF8], [0xF4, 0xF9], [0xF4, 0xFB], [0xF4, 0xF5], [0xF4, 0xEF]],
    [[b'u', 0], [b'u', 0xF8], [b'u', 0xF9], [b'u', 0xFB], [b'u', 0xF5], [b'u', 0xEF]],
    [[0xF6, 0], [0xF6, 0xF8], [0xF6, 0xF9], [0xF6, 0xFB], [0xF6, 0xF5], [0xF6, 0xEF]],
    [[b'y', 0], [b'y', 0xF8], [b'y', 0xF9], [b'y', 0xFB], [b'y', 0xF5], [0xEE, 0]],
];

/// VNI-Windows byte of đ (Đ is 0xD1).
const VNI_D_LOWER: u8 = 0xF1;

/// VNI-Windows mark bytes (lowercase forms; the uppercase form is the byte
/// minus 0x20) and the combining marks each one draws over the letter
/// before it.
const VNI_MARKS: [(u8, &str); 17] = [
    (0xF8, "\u{300}"),        // grave
    (0xF9, "\u{301}"),        // acute
    (0xFB, "\u{309}"),        // hook above
    (0xF5, "\u{303}"),        // tilde
    (0xEF, "\u{323}"),        // dot below
    (0xE2, "\u{302}"),        // circumflex
    (0xE0, "\u{302}\u{300}"), // circumflex + grave
    (0xE1, "\u{302}\u{301}"), // circumflex + acute
    (0xE5, "\u{302}\u{309}"), // circumflex + hook above
    (0xE3, "\u{302}\u{303}"), // circumflex + tilde
    (0xE4, "\u{302}\u{323}"), // circumflex + dot below
    (0xEA, "\u{306}"),        // breve
    (0xE8, "\u{306}\u{300}"), // breve + grave
    (0xE9, "\u{306}\u{301}"), // breve + acute
    (0xFA, "\u{306}\u{309}"), // breve + hook above
    (0xFC, "\u{306}\u{303}"), // breve + tilde
    (0xEB, "\u{306}\u{323}"), // breve + dot below
];

/// The VNI-Windows capital of a lowercase byte: ASCII capital, or the
/// Latin-1 capital (byte − 0x20) in 0xE0–0xFE except 0xF7.
fn vni_upper(b: u8) -> u8 {
    if b.is_ascii_lowercase() || ((0xE0..=0xFE).contains(&b) && b != 0xF7) {
        b - 0x20
    } else {
        b
    }
}

/// Windows-1252 reading of a byte in 0x80–0xBF (punctuation and symbols
/// kept by the legacy Windows fonts); U+FFFD where Windows-1252 has none.
fn cp1252_symbol(b: u8) -> char {
    let byte = [b];
    let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
    match s.chars().next() {
        Some(c) if !is_c1(c) => c,
        _ => char::REPLACEMENT_CHARACTER,
    }
}

fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9F}').contains(&c)
}

/// What one legacy byte decodes to: one or two chars.
#[derive(Clone, Copy)]
struct Unit {
    chars: [char; 2],
    len: u8,
}

impl Unit {
    const fn one(c: char) -> Unit {
        Unit {
            chars: [c, '\0'],
            len: 1,
        }
    }

    fn from_str(s: &str) -> Unit {
        let mut it = s.chars();
        let a = it.next().unwrap_or(char::REPLACEMENT_CHARACTER);
        match it.next() {
            Some(b) => Unit {
                chars: [a, b],
                len: 2,
            },
            None => Unit::one(a),
        }
    }

    fn push_to(self, out: &mut String) {
        for &c in &self.chars[..self.len as usize] {
            out.push(c);
        }
    }
}

fn tcvn3_decode_table() -> &'static [Unit; 256] {
    static TABLE: OnceLock<[Unit; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [Unit::one(char::REPLACEMENT_CHARACTER); 256];
        for b in 0..0x80u8 {
            t[b as usize] = Unit::one(b as char);
        }
        for b in 0x80..=0x9Fu8 {
            t[b as usize] = Unit::one(cp1252_symbol(b));
        }
        t[0xA0] = Unit::one('\u{A0}');
        for &(b, c) in &TCVN3_VN1_EXTRA {
            t[b as usize] = Unit::one(c);
        }
        for (row, bytes) in TCVN3_VOWELS.iter().enumerate() {
            for (tone, &b) in bytes.iter().enumerate() {
                t[b as usize] = Unit::one(VOWELS[row][tone]);
            }
        }
        t[TCVN3_D_LOWER as usize] = Unit::one('đ');
        for &(c, b) in &TCVN3_CAPITALS {
            t[b as usize] = Unit::one(c);
        }
        t
    })
}

fn vni_decode_table() -> &'static [Unit; 256] {
    static TABLE: OnceLock<[Unit; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [Unit::one(char::REPLACEMENT_CHARACTER); 256];
        for b in 0..0x80u8 {
            t[b as usize] = Unit::one(b as char);
        }
        for b in 0x80..=0xBFu8 {
            t[b as usize] = Unit::one(cp1252_symbol(b));
        }
        for &(b, marks) in &VNI_MARKS {
            t[b as usize] = Unit::from_str(marks);
            t[vni_upper(b) as usize] = Unit::from_str(marks);
        }
        for (row, cells) in VNI_VOWELS.iter().enumerate() {
            for (tone, cell) in cells.iter().enumerate() {
                if cell[1] == 0 && cell[0] >= 0x80 {
                    t[cell[0] as usize] = Unit::one(VOWELS[row][tone]);
                    t[vni_upper(cell[0]) as usize] = Unit::one(VOWELS_UPPER[row][tone]);
                }
            }
        }
        t[VNI_D_LOWER as usize] = Unit::one('đ');
        t[vni_upper(VNI_D_LOWER) as usize] = Unit::one('Đ');
        t
    })
}

/// Byte → char of Windows-1258 as encoding_rs reads it (C1 controls, which
/// mark unassigned bytes, become U+FFFD).
fn cp1258_chars() -> &'static [char; 256] {
    static TABLE: OnceLock<[char; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [char::REPLACEMENT_CHARACTER; 256];
        for (b, slot) in t.iter_mut().enumerate() {
            let byte = [b as u8];
            let (s, _) = encoding_rs::WINDOWS_1258.decode_without_bom_handling(&byte);
            if let Some(c) = s.chars().next() {
                if !is_c1(c) {
                    *slot = c;
                }
            }
        }
        t
    })
}

/// Char → bytes for encoding (0 as the second byte means one byte).
type EncodeMap = HashMap<char, [u8; 2]>;

fn tcvn3_encode_map() -> &'static EncodeMap {
    static MAP: OnceLock<EncodeMap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = EncodeMap::new();
        let dec = tcvn3_decode_table();
        // Symbols kept from Windows-1252, and no-break space.
        for b in 0x80..=0xA0u8 {
            let c = dec[b as usize].chars[0];
            if c != char::REPLACEMENT_CHARACTER {
                m.insert(c, [b, 0]);
            }
        }
        for (row, bytes) in TCVN3_VOWELS.iter().enumerate() {
            for (tone, &b) in bytes.iter().enumerate() {
                m.insert(VOWELS[row][tone], [b, 0]);
            }
        }
        m.insert('đ', [TCVN3_D_LOWER, 0]);
        for &(c, b) in &TCVN3_CAPITALS {
            m.insert(c, [b, 0]);
        }
        m
    })
}

fn vni_encode_map() -> &'static EncodeMap {
    static MAP: OnceLock<EncodeMap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = EncodeMap::new();
        let dec = vni_decode_table();
        for b in 0x80..=0xBFu8 {
            let c = dec[b as usize].chars[0];
            if c != char::REPLACEMENT_CHARACTER {
                m.insert(c, [b, 0]);
            }
        }
        for (row, cells) in VNI_VOWELS.iter().enumerate() {
            for (tone, cell) in cells.iter().enumerate() {
                m.insert(VOWELS[row][tone], *cell);
                let upper = [vni_upper(cell[0]), vni_upper(cell[1])];
                m.insert(VOWELS_UPPER[row][tone], upper);
            }
        }
        m.insert('đ', [VNI_D_LOWER, 0]);
        m.insert('Đ', [vni_upper(VNI_D_LOWER), 0]);
        m
    })
}

fn cp1258_encode_map() -> &'static HashMap<char, u8> {
    static MAP: OnceLock<HashMap<char, u8>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = HashMap::new();
        for (b, &c) in cp1258_chars().iter().enumerate() {
            if c != char::REPLACEMENT_CHARACTER {
                m.insert(c, b as u8);
            }
        }
        m
    })
}

/// Row (vowel) and tone of every Vietnamese vowel letter, both cases.
fn vowel_index() -> &'static HashMap<char, (u8, u8)> {
    static MAP: OnceLock<HashMap<char, (u8, u8)>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = HashMap::new();
        for row in 0..12 {
            for tone in 0..6 {
                m.insert(VOWELS[row][tone], (row as u8, tone as u8));
                m.insert(VOWELS_UPPER[row][tone], (row as u8, tone as u8));
            }
        }
        m
    })
}

// ---------------------------------------------------------------------------
// Decoding and encoding.
// ---------------------------------------------------------------------------

/// Decodes bytes in `enc` into NFC Unicode. Never panics; bytes with no mapping become U+FFFD.
///
/// * UTF-8: invalid sequences become U+FFFD; decomposed text is recomposed.
/// * TCVN3: the VN3 letters; 0x80–0x9F as the Windows-1252 symbols; the
///   upper-half bytes that VN3 leaves unused but VN1 assigns (capital toned
///   letters, combining tone marks at 0xB0–0xB4) are read as VN1 does.
/// * VNI: each mark byte becomes the combining marks it draws and NFC joins
///   it to the letter before it, so every base + mark pair of the table is
///   read as its letter (greedy over two-byte sequences), and a mark with no
///   base stays a combining mark as the font draws it; 0x80–0xBF are the
///   Windows-1252 symbols, and the 12 bytes of 0xC0–0xFF that VNI leaves
///   unused become U+FFFD.
/// * CP1258: Windows-1258 through `encoding_rs`, then NFC.
pub fn decode(bytes: &[u8], enc: TextEncoding) -> String {
    if bytes.is_ascii() {
        // Every encoding here is an ASCII superset, and ASCII is NFC.
        return bytes.iter().map(|&b| b as char).collect();
    }
    let raw: String = match enc {
        TextEncoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        TextEncoding::Tcvn3 => decode_table(bytes, tcvn3_decode_table()),
        TextEncoding::Vni => decode_table(bytes, vni_decode_table()),
        TextEncoding::Cp1258 => {
            let (s, _) = encoding_rs::WINDOWS_1258.decode_without_bom_handling(bytes);
            s.chars()
                .map(|c| {
                    if is_c1(c) {
                        char::REPLACEMENT_CHARACTER
                    } else {
                        c
                    }
                })
                .collect()
        }
    };
    raw.nfc().collect()
}

fn decode_table(bytes: &[u8], table: &[Unit; 256]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        table[b as usize].push_to(&mut out);
    }
    out
}

/// Encodes NFC text into `enc` (used by tests and to write legacy files); None when a char has no representation in `enc`.
///
/// The input is normalized to NFC first. TCVN3 has no capital toned
/// letters, so e.g. "Ấ" gives None; CP1258 output uses a precomposed
/// letter where Windows-1258 has one and base + combining tone otherwise.
pub fn encode(text: &str, enc: TextEncoding) -> Option<Vec<u8>> {
    match enc {
        TextEncoding::Utf8 => Some(text.nfc().collect::<String>().into_bytes()),
        TextEncoding::Tcvn3 => encode_map(text, tcvn3_encode_map()),
        TextEncoding::Vni => encode_map(text, vni_encode_map()),
        TextEncoding::Cp1258 => encode_cp1258(text),
    }
}

fn encode_map(text: &str, map: &EncodeMap) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.nfc() {
        if c.is_ascii() {
            out.push(c as u8);
            continue;
        }
        let bytes = map.get(&c)?;
        out.push(bytes[0]);
        if bytes[1] != 0 {
            out.push(bytes[1]);
        }
    }
    Some(out)
}

fn encode_cp1258(text: &str) -> Option<Vec<u8>> {
    let map = cp1258_encode_map();
    let mut out = Vec::with_capacity(text.len() * 2);
    for c in text.nfc() {
        if let Some(&b) = map.get(&c) {
            out.push(b);
            continue;
        }
        let mut parts: Vec<char> = Vec::with_capacity(4);
        decompose_canonical(c, |d| parts.push(d));
        let mut base = parts[0];
        let mut marks: Vec<char> = parts[1..].to_vec();
        // Recompose the base with whichever marks give a letter that
        // Windows-1258 has precomposed (â ê ô ơ ư ă and Latin-1 letters),
        // skipping marks that canonical ordering would block.
        'compose: loop {
            for j in 0..marks.len() {
                let ccc = canonical_combining_class(marks[j]);
                if marks[..j]
                    .iter()
                    .any(|&m| canonical_combining_class(m) >= ccc)
                {
                    continue;
                }
                if let Some(x) = compose(base, marks[j]) {
                    if map.contains_key(&x) {
                        base = x;
                        marks.remove(j);
                        continue 'compose;
                    }
                }
            }
            break;
        }
        out.push(*map.get(&base)?);
        for m in marks {
            out.push(*map.get(&m)?);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Syllable validation.
// ---------------------------------------------------------------------------

/// Initial consonants, longest first within each shared prefix; the empty
/// initial is tried last.
const INITIALS: [&str; 28] = [
    "ngh", "ng", "nh", "gh", "gi", "kh", "ch", "ph", "th", "tr", "qu", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Final consonants.
const FINALS: [&str; 8] = ["c", "ch", "m", "n", "ng", "nh", "p", "t"];

/// Vowel clusters (tone removed) that may be followed by a final consonant
/// and may also end the syllable.
const NUCLEI: [&str; 15] = [
    "a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy", "oo",
];

/// Vowel clusters that need a final consonant (ă and â never end a
/// syllable; the long diphthongs take a final or appear in
/// [`OPEN_RHYMES`]).
const NUCLEI_NEEDING_FINAL: [&str; 9] = ["ă", "â", "oă", "uâ", "iê", "yê", "uô", "ươ", "uyê"];

/// Vowel clusters that end the syllable: those ending in a semivowel, and
/// the open diphthongs.
const OPEN_RHYMES: [&str; 31] = [
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua", "uơ", "ui",
    "ưa", "ưi", "ưu", "oai", "oao", "oay", "oeo", "uây", "uôi", "uya", "uyu", "ươi", "ươu", "iêu",
    "yêu",
];

fn starts_with(s: &[char], p: &str) -> bool {
    let mut it = s.iter();
    p.chars().all(|pc| it.next() == Some(&pc))
}

fn equals(s: &[char], p: &str) -> bool {
    starts_with(s, p) && p.chars().count() == s.len()
}

fn is_vowel_base(c: char) -> bool {
    matches!(
        c,
        'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y'
    )
}

fn rhyme_ok(rest: &[char]) -> bool {
    let v = rest.iter().take_while(|&&c| is_vowel_base(c)).count();
    if v == 0 || v > 3 {
        return false;
    }
    let (nucleus, fin) = rest.split_at(v);
    let any = |set: &[&str]| set.iter().any(|n| equals(nucleus, n));
    if fin.is_empty() {
        any(&NUCLEI) || any(&OPEN_RHYMES)
    } else {
        FINALS.iter().any(|f| equals(fin, f)) && (any(&NUCLEI) || any(&NUCLEI_NEEDING_FINAL))
    }
}

/// Whether `word` (NFC, any case, no punctuation) is a Vietnamese syllable:
/// optional initial consonant, a vowel nucleus with at most one tone mark,
/// optional final consonant or semivowel.
fn is_syllable(word: &str) -> bool {
    let index = vowel_index();
    let mut buf = ['\0'; 8];
    let mut n = 0;
    let mut tones = 0;
    for c in word.chars() {
        if n == buf.len() {
            return false;
        }
        let base = if c.is_ascii_alphabetic() {
            c.to_ascii_lowercase()
        } else if c == 'đ' || c == 'Đ' {
            'đ'
        } else {
            match index.get(&c) {
                Some(&(row, tone)) => {
                    if tone != 0 {
                        tones += 1;
                    }
                    VOWELS[row as usize][0]
                }
                None => return false,
            }
        };
        buf[n] = base;
        n += 1;
    }
    if n == 0 || tones > 1 {
        return false;
    }
    let s = &buf[..n];
    // Plain ASCII vowels carry no tone, toned ones were counted above.
    INITIALS
        .iter()
        .any(|ini| starts_with(s, ini) && rhyme_ok(&s[ini.chars().count()..]))
}

/// Per-encoding tally over the sampled non-ASCII values.
#[derive(Debug, Default, Clone, Copy)]
struct Score {
    /// Values whose every non-ASCII word is a valid syllable.
    values_ok: usize,
    /// Non-ASCII words that are valid syllables.
    words_ok: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || is_combining_mark(c) || c == char::REPLACEMENT_CHARACTER
}

fn score_value(text: &str, score: &mut Score) {
    let mut ok = 0usize;
    let mut bad = 0usize;
    for word in text.split(|c: char| !is_word_char(c)) {
        if word.is_empty() || word.is_ascii() {
            continue;
        }
        if is_syllable(word) {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    score.words_ok += ok;
    if ok > 0 && bad == 0 {
        score.values_ok += 1;
    }
}

// ---------------------------------------------------------------------------
// Detection.
// ---------------------------------------------------------------------------

/// The result of guessing the encoding of a column set.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The encoding guessed.
    pub encoding: TextEncoding,
    /// why, one English sentence for the import report (e.g. "412 of 415 non-ASCII values read as Vietnamese syllables in TCVN3; 0 in VNI; UTF-8 invalid")
    pub how: String,
}

/// At most this many non-ASCII values are decoded by [`detect`].
const DETECT_CAP: usize = 20_000;

/// Candidates in order of preference on ties.
const LEGACY: [TextEncoding; 3] = [TextEncoding::Tcvn3, TextEncoding::Vni, TextEncoding::Cp1258];

/// Guesses the encoding of a set of raw values (every string value of a file, or a sample of them). ASCII-only input → Utf8 ("all text is ASCII").
///
/// Each non-ASCII value (the first 20,000 of them) is decoded in every
/// candidate and its words checked as Vietnamese syllables. Valid UTF-8
/// that yields syllables wins; UTF-8 counts as invalid when more than 1% of
/// the values are malformed (a multi-byte character cut at the end of a
/// value, as fixed-width DBF fields do, is not malformed). Otherwise the
/// legacy encoding with the most values reading entirely as Vietnamese
/// wins, then the one with more valid words, then TCVN3, VNI, CP1258 in
/// that order.
pub fn detect<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Detection {
    let mut non_ascii = 0usize;
    let mut sampled = 0usize;
    let mut utf8_invalid = 0usize;
    let mut utf8_cut = 0usize;
    let mut utf8_nfd = 0usize;
    let mut utf8 = Score::default();
    let mut legacy = [Score::default(); 3];
    for v in values {
        if v.is_ascii() {
            continue;
        }
        non_ascii += 1;
        if sampled >= DETECT_CAP {
            continue;
        }
        sampled += 1;
        let utf8_ok = match std::str::from_utf8(v) {
            Ok(s) => {
                if !unicode_normalization::is_nfc(s) {
                    utf8_nfd += 1;
                }
                true
            }
            Err(e) if e.error_len().is_none() => {
                utf8_cut += 1;
                true
            }
            Err(_) => false,
        };
        if utf8_ok {
            if utf8_invalid * 100 <= DETECT_CAP {
                score_value(&decode(v, TextEncoding::Utf8), &mut utf8);
            }
        } else {
            utf8_invalid += 1;
        }
        for (enc, score) in LEGACY.iter().zip(legacy.iter_mut()) {
            score_value(&decode(v, *enc), score);
        }
    }
    if non_ascii == 0 {
        return Detection {
            encoding: TextEncoding::Utf8,
            how: "all text is ASCII".to_string(),
        };
    }
    let sample_note = if non_ascii > sampled {
        format!(" (first {sampled} of {non_ascii} non-ASCII values checked)")
    } else {
        String::new()
    };
    let utf8_valid = utf8_invalid * 100 <= sampled;
    let mut best = 0;
    for i in 1..LEGACY.len() {
        let (a, b) = (legacy[i], legacy[best]);
        if (a.values_ok, a.words_ok) > (b.values_ok, b.words_ok) {
            best = i;
        }
    }
    let legacy_scores = legacy[best].words_ok > 0;
    if utf8_valid && (utf8.words_ok > 0 || !legacy_scores) {
        let mut how = if utf8.words_ok > 0 {
            format!(
                "{} of {} non-ASCII values read as Vietnamese syllables in UTF-8, which is valid",
                utf8.values_ok, sampled
            )
        } else {
            format!(
                "weak guess: none of {sampled} non-ASCII values reads as Vietnamese syllables \
                 in any encoding, assuming UTF-8 because it is valid"
            )
        };
        if utf8_invalid > 0 {
            how.push_str(&format!(" except in {utf8_invalid} values"));
        }
        if utf8_nfd > 0 {
            how.push_str(&format!(
                "; {utf8_nfd} values are decomposed (NFD) and are recomposed"
            ));
        }
        how.push_str(&sample_note);
        return Detection {
            encoding: TextEncoding::Utf8,
            how,
        };
    }
    if utf8_valid && utf8_invalid == 0 && utf8_cut == 0 {
        // Legacy text is practically never valid UTF-8, while UTF-8 text
        // with symbols only (m², °) may read as a few syllables in a legacy
        // encoding by chance: keep UTF-8.
        return Detection {
            encoding: TextEncoding::Utf8,
            how: format!(
                "all {sampled} non-ASCII values are valid UTF-8 without Vietnamese words \
                 ({} read as Vietnamese syllables in {} only by chance), keeping UTF-8{sample_note}",
                legacy[best].values_ok,
                LEGACY[best].label()
            ),
        };
    }
    if !legacy_scores {
        return Detection {
            encoding: TextEncoding::Tcvn3,
            how: format!(
                "weak guess: none of {sampled} non-ASCII values reads as Vietnamese syllables \
                 in any encoding, assuming TCVN3, the most common legacy encoding, because \
                 UTF-8 is invalid{sample_note}"
            ),
        };
    }
    let mut how = format!(
        "{} of {} non-ASCII values read as Vietnamese syllables in {}",
        legacy[best].values_ok,
        sampled,
        LEGACY[best].label()
    );
    for (i, enc) in LEGACY.iter().enumerate() {
        if i != best {
            how.push_str(&format!("; {} in {}", legacy[i].values_ok, enc.label()));
        }
    }
    if utf8_valid {
        how.push_str(&format!(
            "; UTF-8 has no Vietnamese words and {} malformed or cut values",
            utf8_invalid + utf8_cut
        ));
    } else {
        how.push_str(&format!(
            "; UTF-8 invalid in {utf8_invalid} of {sampled} values"
        ));
    }
    how.push_str(&sample_note);
    Detection {
        encoding: LEGACY[best],
        how,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Vietnamese vowel letter with its six tones, lowercase.
    const LOWER: &str = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ";
    /// The same in uppercase.
    const UPPER: &str = "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬEÈÉẺẼẸÊỀẾỂỄỆIÌÍỈĨỊOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢUÙÚỦŨỤƯỪỨỬỮỰYỲÝỶỸỴ";
    const SENTENCE: &str =
        "Thửa đất số 345, tờ bản đồ 12, phường Minh An, thành phố Hội An; Đất ở tại đô thị";

    const ALL: [TextEncoding; 4] = [
        TextEncoding::Utf8,
        TextEncoding::Tcvn3,
        TextEncoding::Vni,
        TextEncoding::Cp1258,
    ];

    /// Latin-1 chars → bytes (how legacy text looks when read as Latin-1).
    fn l1(s: &str) -> Vec<u8> {
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 char"))
            .collect()
    }

    fn nfc(s: &str) -> String {
        s.nfc().collect()
    }

    /// The letters each encoding must round-trip.
    fn letters(enc: TextEncoding) -> Vec<char> {
        let mut v: Vec<char> = LOWER.chars().collect();
        v.push('đ');
        if enc == TextEncoding::Tcvn3 {
            v.extend("ĂÂĐÊÔƠƯ".chars());
        } else {
            v.extend(UPPER.chars());
            v.push('Đ');
        }
        v
    }

    #[test]
    fn names_and_parse() {
        for enc in ALL {
            assert_eq!(TextEncoding::parse(enc.name()), Some(enc));
            assert_eq!(TextEncoding::parse(&enc.name().to_uppercase()), Some(enc));
        }
        let aliases = [
            ("utf-8", TextEncoding::Utf8),
            ("UTF8", TextEncoding::Utf8),
            ("abc", TextEncoding::Tcvn3),
            ("TCVN", TextEncoding::Tcvn3),
            ("tcvn3", TextEncoding::Tcvn3),
            ("vni-win", TextEncoding::Vni),
            ("VNI-Windows", TextEncoding::Vni),
            ("windows-1258", TextEncoding::Cp1258),
            ("1258", TextEncoding::Cp1258),
            (" cp1258 ", TextEncoding::Cp1258),
        ];
        for (s, enc) in aliases {
            assert_eq!(TextEncoding::parse(s), Some(enc), "{s}");
        }
        assert_eq!(TextEncoding::parse("latin1"), None);
        assert_eq!(TextEncoding::parse(""), None);
        assert_eq!(TextEncoding::Tcvn3.name(), "tcvn3");
    }

    #[test]
    fn letter_tables_match_literal_lists() {
        let lower: String = VOWELS.iter().flatten().collect();
        let upper: String = VOWELS_UPPER.iter().flatten().collect();
        assert_eq!(lower, LOWER);
        assert_eq!(upper, UPPER);
        assert_eq!(LOWER.chars().count(), 72);
        for (l, u) in LOWER.chars().zip(UPPER.chars()) {
            assert_eq!(l.to_uppercase().collect::<String>(), u.to_string());
        }
        // 12 vowels × 6 tones × 2 cases − 12 plain ASCII vowels + đ Đ = 134.
        let count = LOWER
            .chars()
            .chain(UPPER.chars())
            .filter(|c| !c.is_ascii())
            .count()
            + 2;
        assert_eq!(count, 134);
        for c in LOWER.chars().chain(UPPER.chars()) {
            assert_eq!(nfc(&c.to_string()), c.to_string(), "letters are NFC");
        }
    }

    #[test]
    fn tcvn3_bytes_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for &b in TCVN3_VOWELS.iter().flatten() {
            assert!(seen.insert(b), "{b:#x} twice");
        }
        assert!(seen.insert(TCVN3_D_LOWER));
        for &(_, b) in &TCVN3_CAPITALS {
            assert!(seen.insert(b), "{b:#x} twice");
        }
        for &(b, _) in &TCVN3_VN1_EXTRA {
            assert!(seen.insert(b), "{b:#x} twice");
        }
        // 6 plain ASCII vowels, 66 other vowel letters, đ, 7 capitals, and
        // 21 VN1 extras: together every byte 0xA1–0xFF exactly once.
        assert_eq!(seen.len(), 6 + 66 + 1 + 7 + 21);
        for b in 0xA1..=0xFFu8 {
            assert!(seen.contains(&b), "{b:#x} unassigned");
        }
    }

    #[test]
    fn vni_bytes_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for cell in VNI_VOWELS.iter().flatten() {
            let upper = [vni_upper(cell[0]), vni_upper(cell[1])];
            assert!(seen.insert(*cell));
            assert!(seen.insert(upper));
        }
        // Standalone letter bytes and mark bytes never overlap.
        let marks: Vec<u8> = VNI_MARKS
            .iter()
            .flat_map(|&(b, _)| [b, vni_upper(b)])
            .collect();
        for cell in VNI_VOWELS.iter().flatten() {
            for b in [cell[0], vni_upper(cell[0])] {
                assert!(!marks.contains(&b), "{b:#x}");
            }
        }
        assert!(!marks.contains(&VNI_D_LOWER));
    }

    #[test]
    fn round_trip_every_letter() {
        for enc in ALL {
            for c in letters(enc) {
                let s = c.to_string();
                let bytes = encode(&s, enc).unwrap_or_else(|| panic!("{c} in {enc:?}"));
                assert_eq!(decode(&bytes, enc), s, "{c} in {enc:?}: {bytes:x?}");
            }
            let all: String = letters(enc).into_iter().collect();
            let bytes = encode(&all, enc).unwrap();
            assert_eq!(decode(&bytes, enc), all, "{enc:?}");
            // Letters separated by spaces and between ASCII letters.
            let spaced: String = letters(enc).iter().map(|c| format!("x{c}n ")).collect();
            assert_eq!(
                decode(&encode(&spaced, enc).unwrap(), enc),
                spaced,
                "{enc:?}"
            );
        }
    }

    #[test]
    fn legacy_letters_are_single_units() {
        // TCVN3: one byte per letter; VNI: at most two; CP1258: at most two.
        for c in letters(TextEncoding::Tcvn3) {
            assert_eq!(
                encode(&c.to_string(), TextEncoding::Tcvn3).unwrap().len(),
                1
            );
        }
        for enc in [TextEncoding::Vni, TextEncoding::Cp1258] {
            for c in letters(enc) {
                let n = encode(&c.to_string(), enc).unwrap().len();
                assert!((1..=2).contains(&n), "{c} {enc:?} {n}");
            }
        }
    }

    #[test]
    fn tcvn3_has_no_capital_toned_letters() {
        for c in UPPER.chars() {
            let r = encode(&c.to_string(), TextEncoding::Tcvn3);
            if c.is_ascii() || "ĂÂÊÔƠƯ".contains(c) {
                assert!(r.is_some(), "{c}");
            } else {
                assert_eq!(r, None, "{c}");
            }
        }
        assert_eq!(encode("ẤP", TextEncoding::Tcvn3), None);
        assert_eq!(encode("ĐẤT", TextEncoding::Tcvn3), None);
        assert!(encode("§", TextEncoding::Tcvn3).is_none());
    }

    #[test]
    fn unrepresentable_chars() {
        assert_eq!(encode("ç", TextEncoding::Tcvn3), None);
        assert_eq!(encode("ç", TextEncoding::Vni), None);
        assert_eq!(encode("日本", TextEncoding::Cp1258), None);
        assert_eq!(encode("Ω", TextEncoding::Vni), None);
        assert!(encode("ç日本", TextEncoding::Utf8).is_some());
        // Windows-1258 has ç and the Windows-1252 symbols.
        assert!(encode("ç €", TextEncoding::Cp1258).is_some());
    }

    #[test]
    fn sentence_round_trip() {
        for enc in ALL {
            let bytes = encode(SENTENCE, enc).unwrap_or_else(|| panic!("{enc:?}"));
            assert_eq!(decode(&bytes, enc), SENTENCE, "{enc:?}");
            let lower = SENTENCE.to_lowercase();
            let bytes = encode(&lower, enc).unwrap();
            assert_eq!(decode(&bytes, enc), lower, "{enc:?}");
        }
        let upper = SENTENCE.to_uppercase();
        for enc in [TextEncoding::Utf8, TextEncoding::Vni, TextEncoding::Cp1258] {
            assert_eq!(decode(&encode(&upper, enc).unwrap(), enc), upper);
        }
        assert_eq!(encode(&upper, TextEncoding::Tcvn3), None);
    }

    #[test]
    fn tcvn3_anchors() {
        let cases = [
            ("hép møt tÕt", "hộp mứt tết"),
            ("ViÖt Nam", "Việt Nam"),
            ("§µ N½ng", "Đà Nẵng"),
            ("Qu¶ng Nam", "Quảng Nam"),
            (
                "Céng hoµ x· héi chñ nghÜa ViÖt Nam",
                "Cộng hoà xã hội chủ nghĩa Việt Nam",
            ),
            ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc"),
            ("®Êt ë t¹i ®« thÞ", "đất ở tại đô thị"),
            ("¡ ¢ £ ¤ ¥ ¦ §", "Ă Â Ê Ô Ơ Ư Đ"),
        ];
        for (legacy, text) in cases {
            assert_eq!(decode(&l1(legacy), TextEncoding::Tcvn3), text);
            assert_eq!(
                encode(text, TextEncoding::Tcvn3).unwrap(),
                l1(legacy),
                "{text}"
            );
        }
        // VN1 leniency and Windows-1252 symbols, decode only.
        assert_eq!(decode(&[0xC4, b'p'], TextEncoding::Tcvn3), "Ấp");
        assert_eq!(decode(&[b'a', 0xB3], TextEncoding::Tcvn3), "á");
        assert_eq!(decode(&[0x93, b'x', 0x94], TextEncoding::Tcvn3), "“x”");
        assert_eq!(
            encode("“x”", TextEncoding::Tcvn3).unwrap(),
            vec![0x93, b'x', 0x94]
        );
    }

    #[test]
    fn vni_anchors() {
        let cases = [
            ("Xin chaøo caùc baïn", "Xin chào các bạn"),
            ("Ñaø Naüng", "Đà Nẵng"),
            (
                "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam",
                "Cộng hòa xã hội chủ nghĩa Việt Nam",
            ),
            (
                "Ñoäc laäp - Töï do - Haïnh phuùc",
                "Độc lập - Tự do - Hạnh phúc",
            ),
            ("ngöôøi", "người"),
            ("VIEÄT NAM", "VIỆT NAM"),
            ("ÑAØ NAÜNG", "ĐÀ NẴNG"),
            ("Quaûng Nam, Hoäi An", "Quảng Nam, Hội An"),
            ("Tam Kyø, Ñieän Baøn", "Tam Kỳ, Điện Bàn"),
            ("thò xaõ, Ñaát ôû", "thị xã, Đất ở"),
        ];
        for (legacy, text) in cases {
            assert_eq!(decode(&l1(legacy), TextEncoding::Vni), text, "{legacy}");
            assert_eq!(
                encode(text, TextEncoding::Vni).unwrap(),
                l1(legacy),
                "{text}"
            );
        }
        // Mixed-case pairs and orphan marks are read as the font draws them.
        assert_eq!(decode(&l1("Aù"), TextEncoding::Vni), "Á");
        assert_eq!(decode(&l1("aÙ"), TextEncoding::Vni), "á");
        assert_eq!(decode(&l1("yï"), TextEncoding::Vni), "ỵ");
        assert_eq!(decode(&l1("ù"), TextEncoding::Vni), "\u{301}");
    }

    #[test]
    fn cp1258_anchors() {
        let cases: [(&[u8], &str); 4] = [
            (b"Vi\xEA\xF2t Nam", "Việt Nam"),
            (b"\xD0\xE0 N\xE3\xDEng", "Đà Nẵng"),
            (b"Qua\xD2ng Nam", "Quảng Nam"),
            (b"\xD0\xE2\xECt \xF5\xD2", "Đất ở"),
        ];
        for (legacy, text) in cases {
            assert_eq!(decode(legacy, TextEncoding::Cp1258), text);
            assert_eq!(
                encode(text, TextEncoding::Cp1258).unwrap(),
                legacy,
                "{text}"
            );
        }
        // The fully decomposed spelling decodes the same.
        assert_eq!(
            decode(b"\xD0a\xCC N\xE3\xDEng", TextEncoding::Cp1258),
            "Đà Nẵng"
        );
        assert_eq!(decode(b"Vie\xCC", TextEncoding::Cp1258), "Viè");
    }

    #[test]
    fn nfd_utf8_decodes_to_nfc() {
        let nfd: String = SENTENCE.nfd().collect();
        assert_ne!(nfd, SENTENCE);
        assert_eq!(decode(nfd.as_bytes(), TextEncoding::Utf8), SENTENCE);
        let all: String = format!("{LOWER}{UPPER}đĐ");
        let nfd: String = all.nfd().collect();
        assert_eq!(decode(nfd.as_bytes(), TextEncoding::Utf8), all);
        assert_eq!(decode(b"ab\xFFc", TextEncoding::Utf8), "ab\u{FFFD}c");
    }

    #[test]
    fn syllables() {
        let good = [
            "Nguyễn",
            "người",
            "nghiêng",
            "đường",
            "quốc",
            "quý",
            "gì",
            "giữa",
            "khuỷu",
            "Huỳnh",
            "thuở",
            "xoong",
            "hoặc",
            "khuya",
            "yêu",
            "ở",
            "à",
            "chuyện",
            "Nẵng",
            "Hội",
            "thuỷ",
            "thủy",
            "Trương",
            "giếng",
            "LÚA",
            "ĐẤT",
            "tuấn",
            "khoẻ",
            "rượu",
            "suối",
            "Kỳ",
        ];
        for w in good {
            assert!(is_syllable(w), "{w}");
        }
        let bad = [
            "chaứo", "Café", "ViÖt", "xyz", "ấá", "ng", "fà", "aim", "hỏá", "§µ", "Đắk", "uờiêu",
            "\u{FFFD}", "Ă", "mâ", "tiê",
        ];
        for w in bad {
            assert!(!is_syllable(w), "{w}");
        }
    }

    /// Realistic attribute values of a cadastral layer.
    const SAMPLE: [&str; 56] = [
        "Đà Nẵng",
        "Quảng Nam",
        "Hội An",
        "Tam Kỳ",
        "Điện Bàn",
        "Duy Xuyên",
        "Thăng Bình",
        "Núi Thành",
        "Hòa Vang",
        "Sơn Trà",
        "Ngũ Hành Sơn",
        "Liên Chiểu",
        "Cẩm Lệ",
        "Hải Châu",
        "Thanh Khê",
        "phường Minh An",
        "phường Cẩm Phô",
        "xã Cẩm Thanh",
        "xã Điện Dương",
        "thị xã Điện Bàn",
        "huyện Đại Lộc",
        "Quế Sơn",
        "Nguyễn Văn An",
        "Trần Thị Bích Ngọc",
        "Lê Quang Huy",
        "Phạm Thị Hồng",
        "Võ Văn Dũng",
        "Huỳnh Thị Mỹ Linh",
        "Đặng Ngọc Tuấn",
        "Phan Thanh Tùng",
        "Bùi Thị Xuân",
        "Hồ Đức Thắng",
        "Ngô Quốc Khánh",
        "Dương Thị Thuỷ",
        "Trương Công Hiếu",
        "Đất trồng lúa",
        "Đất ở tại nông thôn",
        "Đất ở tại đô thị",
        "Đất trồng cây lâu năm",
        "Đất nuôi trồng thủy sản",
        "Đất rừng sản xuất",
        "Đất cơ sở sản xuất phi nông nghiệp",
        "Đất giao thông",
        "Đất thủy lợi",
        "Đất nghĩa trang, nghĩa địa",
        "Đất sông, ngòi, kênh, rạch, suối",
        "Đất bằng chưa sử dụng",
        "Số 12 đường Trần Phú",
        "Tổ 5, khối phố Phước Trạch",
        "Thôn Trà Quế, xã Cẩm Hà",
        "Kiệt 45 Lê Duẩn",
        "Lô A2-15 khu dân cư Nam Cầu Cẩm Lệ",
        "Thửa 345, tờ bản đồ số 12",
        "ODT",
        "LUC",
        "Tam Thanh",
    ];

    /// Encodes like a contractor would: TCVN3 writes capital toned letters
    /// with the lowercase bytes (drawn as capitals by an "H" font).
    fn encode_like_contractor(s: &str, enc: TextEncoding) -> Vec<u8> {
        let mut out = Vec::new();
        for c in s.chars() {
            let t = c.to_string();
            let b = encode(&t, enc).or_else(|| encode(&t.to_lowercase(), enc));
            out.extend(b.unwrap_or_else(|| panic!("{c} in {enc:?}")));
        }
        out
    }

    #[test]
    fn detect_each_encoding() {
        for enc in ALL {
            let column: Vec<Vec<u8>> = SAMPLE
                .iter()
                .map(|s| encode_like_contractor(s, enc))
                .collect();
            let d = detect(column.iter().map(|v| v.as_slice()));
            assert_eq!(d.encoding, enc, "{enc:?}: {}", d.how);
            assert!(d.how.contains("non-ASCII values"), "{}", d.how);
            for (bytes, text) in column.iter().zip(SAMPLE) {
                assert_eq!(decode(bytes, d.encoding), text);
            }
        }
    }

    #[test]
    fn detect_uppercase_and_single_values() {
        // An all-caps VNI column, and single values in each encoding.
        let caps: Vec<Vec<u8>> = SAMPLE
            .iter()
            .map(|s| encode(&s.to_uppercase(), TextEncoding::Vni).unwrap())
            .collect();
        assert_eq!(
            detect(caps.iter().map(|v| v.as_slice())).encoding,
            TextEncoding::Vni
        );
        // "Tam Kỳ" in CP1258 ends in 0xCC, which looks like UTF-8 cut short.
        let one = encode("Tam Kỳ", TextEncoding::Cp1258).unwrap();
        assert_eq!(one.last(), Some(&0xCC));
        let d = detect([one.as_slice()]);
        assert_eq!(d.encoding, TextEncoding::Cp1258, "{}", d.how);
        for enc in ALL {
            let one = encode_like_contractor("Đất ở tại nông thôn", enc);
            assert_eq!(detect([one.as_slice()]).encoding, enc, "{enc:?}");
        }
    }

    #[test]
    fn detect_nfd_utf8() {
        let column: Vec<String> = SAMPLE.iter().map(|s| s.nfd().collect()).collect();
        let d = detect(column.iter().map(|s| s.as_bytes()));
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert!(d.how.contains("NFD"), "{}", d.how);
    }

    #[test]
    fn detect_utf8_cut_at_field_end() {
        // A fixed-width field that cut "ễ" (3 bytes) after its first byte.
        let mut column: Vec<Vec<u8>> = SAMPLE.iter().map(|s| s.as_bytes().to_vec()).collect();
        let mut cut = "Nguyễn".as_bytes().to_vec();
        cut.truncate(5);
        column.push(cut);
        let d = detect(column.iter().map(|v| v.as_slice()));
        assert_eq!(d.encoding, TextEncoding::Utf8, "{}", d.how);
    }

    #[test]
    fn detect_ascii_empty_and_weak() {
        let d = detect([b"ODT".as_slice(), b"Minh An", b""]);
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert_eq!(d.how, "all text is ASCII");
        let d = detect(std::iter::empty::<&[u8]>());
        assert_eq!(d.encoding, TextEncoding::Utf8);
        // Valid UTF-8 with no Vietnamese words.
        let d = detect(["m²".as_bytes(), "25°C".as_bytes()]);
        assert_eq!(d.encoding, TextEncoding::Utf8, "{}", d.how);
        let d = detect(["°".as_bytes(), "ÿ".as_bytes()]);
        assert_eq!(d.encoding, TextEncoding::Utf8, "{}", d.how);
        assert!(d.how.starts_with("weak guess"), "{}", d.how);
        // Invalid UTF-8 and nothing Vietnamese anywhere.
        let d = detect([[0xFFu8, 0xFF, 0xFF].as_slice()]);
        assert_eq!(d.encoding, TextEncoding::Tcvn3);
        assert!(d.how.starts_with("weak guess"), "{}", d.how);
    }

    #[test]
    fn detect_large_input_is_capped() {
        let one = encode("Đất trồng lúa", TextEncoding::Vni).unwrap();
        let column: Vec<&[u8]> = vec![one.as_slice(); 100_000];
        let d = detect(column);
        assert_eq!(d.encoding, TextEncoding::Vni);
        assert!(d.how.contains("first 20000 of 100000"), "{}", d.how);
    }

    #[test]
    fn decode_never_panics() {
        for enc in ALL {
            for b in 0..=255u8 {
                let s = decode(&[b], enc);
                assert!(!s.is_empty());
                assert!(unicode_normalization::is_nfc(&s));
            }
            for a in 0..=255u8 {
                for b in (0..=255u8).step_by(3) {
                    let s = decode(&[a, b], enc);
                    assert!(unicode_normalization::is_nfc(&s));
                }
            }
        }
        // Random byte strings from a tiny LCG.
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u32
        };
        for _ in 0..2_000 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            for enc in ALL {
                let s = decode(&bytes, enc);
                assert!(unicode_normalization::is_nfc(&s));
                // Anything decoded that encodes again decodes to itself.
                if let Some(again) = encode(&s, enc) {
                    assert_eq!(decode(&again, enc), s, "{enc:?} {bytes:x?}");
                }
            }
            let _ = detect([bytes.as_slice()]);
        }
    }

    #[test]
    fn legacy_bytes_decode_as_expected_counts() {
        // Only bytes without any mapping give U+FFFD.
        let fffd = |enc| {
            (0..=255u8)
                .filter(|&b| decode(&[b], enc).contains('\u{FFFD}'))
                .count()
        };
        // TCVN3: the five Windows-1252 holes in 0x80–0x9F.
        assert_eq!(fffd(TextEncoding::Tcvn3), 5);
        // VNI: the Windows-1252 holes plus the 12 unused bytes in 0xC0–0xFF.
        assert_eq!(fffd(TextEncoding::Vni), 5 + 12);
    }
}
