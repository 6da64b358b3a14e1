//! Vietnamese names for the synthetic data: the kinds of commune-level
//! units, streets, hamlets and investors. The communes themselves, with
//! their real GSO codes and names, come from
//! `data/sources/communes_pre2025.csv` (read in `world.rs`); streets,
//! hamlets and investors here are plausible but invented.

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

    /// The kind of a `type` of `communes_pre2025.csv` (`phuong`, `thi-tran`,
    /// `xa`).
    pub(crate) fn from_csv(ty: &str) -> Option<CommuneKind> {
        match ty {
            "phuong" => Some(CommuneKind::Ward),
            "thi-tran" => Some(CommuneKind::Town),
            "xa" => Some(CommuneKind::Rural),
            _ => None,
        }
    }

    /// The `unit_type` of its `admin_units` record.
    pub(crate) fn unit_type(self) -> &'static str {
        match self {
            CommuneKind::Ward => "phường",
            CommuneKind::Town => "thị trấn",
            CommuneKind::Rural => "xã",
        }
    }

    /// True for wards and towns, whose residential land is ODT.
    pub(crate) fn is_urban(self) -> bool {
        !matches!(self, CommuneKind::Rural)
    }
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
