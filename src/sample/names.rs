//! Vietnamese names for the synthetic data: pre-2025 communes and wards of
//! every district, streets, hamlets and investors. Commune names follow the
//! real units of each district as far as memory serves; some may be
//! approximate or synthetic, which is fine for sample data (every generated
//! feature carries `synthetic = true`).

/// The kind of a commune-level unit; it decides the name prefix and
/// whether residential land is urban (ODT) or rural (ONT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommuneKind {
    /// Phường (urban ward).
    Ward,
    /// Thị trấn (district town).
    Town,
    /// Xã (rural commune).
    Rural,
}

impl CommuneKind {
    /// The name prefix as written in front of the name.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            CommuneKind::Ward => "Phường",
            CommuneKind::Town => "Thị trấn",
            CommuneKind::Rural => "Xã",
        }
    }

    /// True for wards and towns, whose residential land is ODT.
    pub(crate) fn is_urban(self) -> bool {
        !matches!(self, CommuneKind::Rural)
    }
}

/// Communes of a district before 2025, as `P:` (phường), `T:` (thị trấn)
/// or `X:` (xã) entries separated by `;`. Seats and central wards first.
pub(crate) fn communes_of(district_code: &str) -> &'static str {
    match district_code {
        "490" => "P:Hòa Khánh Bắc;P:Hòa Khánh Nam;P:Hòa Minh;P:Hòa Hiệp Nam;P:Hòa Hiệp Bắc",
        "491" => {
            "P:Chính Gián;P:Thạc Gián;P:Vĩnh Trung;P:Tân Chính;P:Tam Thuận;P:Xuân Hà;\
             P:Thanh Khê Tây;P:Thanh Khê Đông;P:An Khê;P:Hòa Khê"
        }
        "492" => {
            "P:Hải Châu I;P:Hải Châu II;P:Thạch Thang;P:Phước Ninh;P:Bình Hiên;P:Bình Thuận;\
             P:Nam Dương;P:Thuận Phước;P:Thanh Bình;P:Hòa Thuận Tây;P:Hòa Thuận Đông;\
             P:Hòa Cường Bắc;P:Hòa Cường Nam"
        }
        "493" => {
            "P:An Hải Tây;P:An Hải Bắc;P:An Hải Đông;P:Phước Mỹ;P:Mân Thái;P:Nại Hiên Đông;\
             P:Thọ Quang"
        }
        "494" => "P:Mỹ An;P:Khuê Mỹ;P:Hòa Hải;P:Hòa Quý",
        "495" => "P:Khuê Trung;P:Hòa Thọ Đông;P:Hòa Thọ Tây;P:Hòa An;P:Hòa Phát;P:Hòa Xuân",
        "497" => {
            "X:Hòa Phong;X:Hòa Tiến;X:Hòa Châu;X:Hòa Phước;X:Hòa Khương;X:Hòa Nhơn;X:Hòa Sơn;\
             X:Hòa Liên;X:Hòa Ninh;X:Hòa Phú;X:Hòa Bắc"
        }
        "502" => {
            "P:An Mỹ;P:Phước Hòa;P:An Sơn;P:An Xuân;P:Tân Thạnh;P:Hòa Hương;P:Trường Xuân;\
             P:An Phú;P:Hòa Thuận;X:Tam Thăng;X:Tam Phú;X:Tam Thanh;X:Tam Ngọc"
        }
        "503" => {
            "P:Minh An;P:Sơn Phong;P:Cẩm Phô;P:Tân An;P:Cẩm Nam;P:Thanh Hà;P:Cẩm Châu;\
             P:Cẩm An;P:Cửa Đại;X:Cẩm Hà;X:Cẩm Kim;X:Cẩm Thanh"
        }
        "504" => {
            "X:A Tiêng;X:Bhalêê;X:A Vương;X:Lăng;X:Dang;X:A Xan;X:Ch'ơm;X:Ga Ri;X:Tr'Hy;\
             X:A Nông"
        }
        "505" => {
            "T:Prao;X:Tư;X:Ba;X:A Ting;X:Jơ Ngây;X:Sông Kôn;X:Tà Lu;X:Kà Dăng;X:Mà Cooih;\
             X:Za Hung;X:A Rooi"
        }
        "506" => {
            "T:Ái Nghĩa;X:Đại Hiệp;X:Đại Hòa;X:Đại An;X:Đại Nghĩa;X:Đại Quang;X:Đại Đồng;\
             X:Đại Hồng;X:Đại Lãnh;X:Đại Hưng;X:Đại Sơn;X:Đại Tân;X:Đại Thắng;X:Đại Chánh;\
             X:Đại Thạnh;X:Đại Cường;X:Đại Minh;X:Đại Phong"
        }
        "507" => {
            "P:Vĩnh Điện;P:Điện An;P:Điện Ngọc;P:Điện Dương;P:Điện Nam Bắc;P:Điện Nam Trung;\
             P:Điện Nam Đông;X:Điện Minh;X:Điện Phương;X:Điện Thắng Bắc;X:Điện Thắng Trung;\
             X:Điện Thắng Nam;X:Điện Hòa;X:Điện Tiến;X:Điện Hồng;X:Điện Thọ;X:Điện Phước;\
             X:Điện Quang;X:Điện Trung;X:Điện Phong"
        }
        "508" => {
            "T:Nam Phước;X:Duy Hải;X:Duy Nghĩa;X:Duy Thành;X:Duy Vinh;X:Duy Phước;X:Duy Trung;\
             X:Duy Sơn;X:Duy Trinh;X:Duy Châu;X:Duy Hòa;X:Duy Phú;X:Duy Tân;X:Duy Thu"
        }
        "509" => {
            "T:Đông Phú;T:Hương An;X:Quế Xuân 1;X:Quế Xuân 2;X:Quế Phú;X:Quế Hiệp;X:Quế Thuận;\
             X:Quế Châu;X:Quế Long;X:Quế Phong;X:Phú Thọ;X:Quế An;X:Quế Minh"
        }
        "510" => {
            "T:Thạnh Mỹ;X:Chà Vàl;X:Zuôih;X:Cà Dy;X:Tà Bhing;X:Tà Pơơ;X:Đắc Pre;X:Đắc Pring;\
             X:Đắc Tôi;X:La Dêê;X:La Êê;X:Chơ Chun"
        }
        "511" => {
            "T:Khâm Đức;X:Phước Đức;X:Phước Năng;X:Phước Mỹ;X:Phước Chánh;X:Phước Công;\
             X:Phước Kim;X:Phước Thành;X:Phước Xuân;X:Phước Hiệp;X:Phước Hòa;X:Phước Lộc"
        }
        "512" => {
            "T:Tân Bình;X:Quế Thọ;X:Bình Lâm;X:Sông Trà;X:Phước Gia;X:Phước Trà;X:Hiệp Hòa;\
             X:Hiệp Thuận;X:Quế Lưu;X:Thăng Phước;X:Bình Sơn"
        }
        "513" => {
            "T:Hà Lam;X:Bình Triều;X:Bình Giang;X:Bình Dương;X:Bình Minh;X:Bình Đào;X:Bình Nam;\
             X:Bình Hải;X:Bình Sa;X:Bình Trung;X:Bình Tú;X:Bình Quý;X:Bình Phục;X:Bình Nguyên;\
             X:Bình Quế;X:Bình An;X:Bình Trị;X:Bình Định Bắc;X:Bình Định Nam;X:Bình Chánh;\
             X:Bình Phú;X:Bình Lãnh"
        }
        "514" => {
            "T:Tiên Kỳ;X:Tiên Châu;X:Tiên Hà;X:Tiên Cẩm;X:Tiên Sơn;X:Tiên Lãnh;X:Tiên Ngọc;\
             X:Tiên Hiệp;X:Tiên An;X:Tiên Lộc;X:Tiên Cảnh;X:Tiên Mỹ;X:Tiên Phong;X:Tiên Thọ;\
             X:Tiên Lập"
        }
        "515" => {
            "T:Trà My;X:Trà Sơn;X:Trà Kót;X:Trà Nú;X:Trà Đông;X:Trà Dương;X:Trà Giang;X:Trà Bui;\
             X:Trà Đốc;X:Trà Tân;X:Trà Giác;X:Trà Giáp;X:Trà Ka"
        }
        "516" => {
            "X:Trà Mai;X:Trà Tập;X:Trà Cang;X:Trà Linh;X:Trà Nam;X:Trà Don;X:Trà Leng;X:Trà Vân;\
             X:Trà Vinh;X:Trà Dơn"
        }
        "517" => {
            "T:Núi Thành;X:Tam Quang;X:Tam Nghĩa;X:Tam Hiệp;X:Tam Giang;X:Tam Hải;X:Tam Anh Bắc;\
             X:Tam Anh Nam;X:Tam Hòa;X:Tam Tiến;X:Tam Xuân 1;X:Tam Xuân 2;X:Tam Sơn;X:Tam Thạnh;\
             X:Tam Mỹ Đông;X:Tam Mỹ Tây;X:Tam Trà"
        }
        "518" => {
            "T:Phú Thịnh;X:Tam Đàn;X:Tam Thành;X:Tam An;X:Tam Phước;X:Tam Lộc;X:Tam Vinh;\
             X:Tam Thái;X:Tam Đại;X:Tam Dân;X:Tam Lãnh"
        }
        "519" => "X:Quế Trung;X:Quế Lộc;X:Quế Lâm;X:Phước Ninh;X:Sơn Viên;X:Quế Phước;X:Ninh Phước",
        // Hoàng Sa has no commune-level units.
        _ => "",
    }
}

/// Parses a [`communes_of`] list.
pub(crate) fn parse_communes(list: &'static str) -> Vec<(CommuneKind, &'static str)> {
    list.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (k, name) = s.split_once(':').unwrap_or(("X", s));
            let kind = match k {
                "P" => CommuneKind::Ward,
                "T" => CommuneKind::Town,
                _ => CommuneKind::Rural,
            };
            (kind, name)
        })
        .collect()
}

/// Names given to wide avenues, nearest the centre first.
pub(crate) const AVENUES: &[&str] = &[
    "Trần Phú",
    "Hùng Vương",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Phan Châu Trinh",
    "Bạch Đằng",
    "Điện Biên Phủ",
    "Nguyễn Văn Linh",
    "Lê Duẩn",
    "Quang Trung",
    "Hai Bà Trưng",
    "Trần Hưng Đạo",
    "Nguyễn Tất Thành",
    "Võ Nguyên Giáp",
    "Phạm Văn Đồng",
    "Ngô Quyền",
    "Tôn Đức Thắng",
    "Cách Mạng Tháng Tám",
    "Nguyễn Hoàng",
    "Lạc Long Quân",
];

/// Names given to ordinary streets, nearest the centre first; further
/// streets are numbered ("Đường số 12"), as new urban areas do.
pub(crate) const STREETS: &[&str] = &[
    "Lý Thường Kiệt",
    "Lê Hồng Phong",
    "Nguyễn Thị Minh Khai",
    "Hoàng Diệu",
    "Phan Bội Châu",
    "Huỳnh Thúc Kháng",
    "Trưng Nữ Vương",
    "Nguyễn Chí Thanh",
    "Lê Thánh Tôn",
    "Ông Ích Khiêm",
    "Hàm Nghi",
    "Nguyễn Du",
    "Âu Cơ",
    "Nguyễn Trãi",
    "Lý Tự Trọng",
    "Phan Đình Phùng",
    "Trần Quốc Toản",
    "Yết Kiêu",
    "Nguyễn Lương Bằng",
    "Hoàng Hoa Thám",
    "Đống Đa",
    "Tiểu La",
    "Hồ Xuân Hương",
    "Chu Văn An",
    "Lê Quý Đôn",
    "Nguyễn Công Trứ",
    "Bà Triệu",
    "Thái Phiên",
    "Trần Cao Vân",
    "Lương Nhữ Hộc",
    "Hà Huy Tập",
    "Kim Đồng",
    "Võ Thị Sáu",
    "Nguyễn Thái Học",
    "Trần Bình Trọng",
    "Ngô Gia Tự",
    "Lê Văn Hưu",
    "Trần Nhân Tông",
    "Hoàng Văn Thụ",
    "Tô Hiến Thành",
    "Nguyễn Thị Định",
    "Mạc Đăng Dung",
    "Lê Đình Dương",
    "Phan Thanh",
    "Hải Phòng",
    "Hùng Thúc Kháng",
    "Nguyễn Văn Trỗi",
    "Trần Quý Cáp",
    "Phan Đăng Lưu",
    "Lê Lai",
    "Đinh Tiên Hoàng",
    "Lý Thái Tổ",
    "Trần Khánh Dư",
    "Nguyễn Khuyến",
    "Xuân Diệu",
    "Hàn Mặc Tử",
    "Tố Hữu",
    "Chế Lan Viên",
    "Nguyễn Đình Chiểu",
    "Cao Thắng",
    "Lê Văn Tám",
    "Võ Văn Kiệt",
    "Nguyễn Sinh Sắc",
    "Hoàng Quốc Việt",
    "Núi Thành",
    "Duy Tân",
    "Lê Thanh Nghị",
    "Nguyễn Hữu Thọ",
    "Trương Định",
    "Phạm Ngũ Lão",
    "Nguyễn Bỉnh Khiêm",
    "Lê Văn Sỹ",
    "Đỗ Quang",
    "Nguyễn Phước Nguyên",
    "Trần Thị Lý",
    "Hoàng Sa",
    "Trường Sa",
    "Đồng Khởi",
    "Thanh Thủy",
    "Nguyễn Văn Thoại",
];

/// First and second syllables of synthetic hamlet names.
const HAMLET_A: &[&str] = &[
    "Phú", "Tây", "Đông", "Thanh", "An", "Hòa", "Phước", "Mỹ", "Trung", "Vĩnh", "Tân", "Xuân",
    "Lạc", "Bình", "Thạnh", "Quảng", "Kim", "Long", "Hà", "Châu", "Thái", "Cẩm", "Ngọc", "Văn",
];
const HAMLET_B: &[&str] = &[
    "An", "Hòa", "Phú", "Mỹ", "Bình", "Lộc", "Thạnh", "Đông", "Tây", "Sơn", "Hưng", "Lâm", "Trung",
    "Thuận", "Xuân", "Quang", "Bông", "Chiêm", "Yên", "Khương", "Nhơn", "Tịnh", "Hội", "Lang",
];

/// A synthetic hamlet name ("Thôn Phú Bông") or, in wards and towns, a
/// block name ("Khối phố Xuân Quang").
pub(crate) fn hamlet_name(kind: CommuneKind, h: u64) -> String {
    let a = HAMLET_A[(h % HAMLET_A.len() as u64) as usize];
    let b = HAMLET_B[((h >> 16) % HAMLET_B.len() as u64) as usize];
    let b = if a == b {
        HAMLET_B[((h >> 16).wrapping_add(1) % HAMLET_B.len() as u64) as usize]
    } else {
        b
    };
    match kind {
        CommuneKind::Rural => format!("Thôn {a} {b}"),
        _ => format!("Khối phố {a} {b}"),
    }
}

/// First words of synthetic investor names (not real companies).
pub(crate) const INVESTOR_A: &[&str] = &[
    "Công ty Cổ phần Đầu tư",
    "Công ty TNHH",
    "Công ty Cổ phần Phát triển",
    "Công ty TNHH Một thành viên",
    "Công ty Cổ phần Tập đoàn",
    "Liên danh Công ty Cổ phần",
];
/// Second words of synthetic investor names.
pub(crate) const INVESTOR_B: &[&str] = &[
    "Hải Vân Xanh",
    "Sông Thu",
    "Phương Nam Land",
    "Kim Long Phát",
    "An Phú Miền Trung",
    "Thành Đạt Quảng",
    "Đại Dương Xanh",
    "Việt Hưng Thịnh",
    "Minh Phát Toàn Cầu",
    "Sao Mai Biển",
    "Phú Gia Quảng Đà",
    "Đông Á Kỹ Thuật",
    "Trường Giang Logistics",
    "Cửa Đại Resort",
    "Ngũ Hành Capital",
    "Tiên Sa Holdings",
    "Chu Lai Tech",
    "Thu Bồn Agro",
    "Sơn Trà Invest",
    "Bạch Đằng Energy",
];
