//! The demo province's data: Vĩnh Long (level-1 code H62) as it stands in 2026, with
//! the two reorganisations of 2025 recorded so that past dates read right.
//!
//! Codes follow QCVN 102:2016: departments and the former districts are level 2
//! (`000.00.NN.H62`); communes and wards are level 3 (`000.CC.NN.H62`), where `NN`
//! is the former district or area they lie in. People and their names are invented.

use lienthong_domain::{AgencyKind, PersonKind, Role};

/// The agency a fixed sign-in belongs to, named as it is today.
pub(super) const COMMITTEE_NAME: &str = "Ủy ban nhân dân tỉnh Vĩnh Long";
pub(super) const SKHCN_NAME: &str = "Sở Khoa học và Công nghệ";
pub(super) const LONG_HO_NAME: &str = "Xã Long Hồ";
/// The code Xã Long Hồ kept from the township it was (Thị trấn Long Hồ).
pub(super) const LONG_HO_CODE: &str = "000.01.52.H62";

pub(super) const COMMITTEE_CODE: &str = "000.00.00.H62";

/// 1 March 2025: departments merged (Sở TT&TT into Sở KH&CN, and others).
pub(super) const MERGE_DAY: &str = "2025-03-01";
/// 1 July 2025: districts abolished, communes and wards directly under the province.
pub(super) const LOCAL_GOVERNMENT_DAY: &str = "2025-07-01";

pub(super) struct AgencySpec {
    /// Handle used by the rest of this file.
    pub key: &'static str,
    pub code: &'static str,
    pub kind: AgencyKind,
    pub name: &'static str,
    pub short: &'static str,
    pub parent: Option<&'static str>,
    pub from: &'static str,
    /// (name, short name); communes and wards get theirs after the 2025 reform.
    pub units: &'static [(&'static str, &'static str)],
}

// One row of the table below: spelling out the fields keeps the table readable.
#[allow(clippy::too_many_arguments)]
const fn agency(
    key: &'static str,
    code: &'static str,
    kind: AgencyKind,
    name: &'static str,
    short: &'static str,
    parent: Option<&'static str>,
    from: &'static str,
    units: &'static [(&'static str, &'static str)],
) -> AgencySpec {
    AgencySpec {
        key,
        code,
        kind,
        name,
        short,
        parent,
        from,
        units,
    }
}

const fn dept(
    key: &'static str,
    code: &'static str,
    name: &'static str,
    short: &'static str,
    from: &'static str,
    units: &'static [(&'static str, &'static str)],
) -> AgencySpec {
    agency(
        key,
        code,
        AgencyKind::Department,
        name,
        short,
        Some("ubnd"),
        from,
        units,
    )
}

const fn district(key: &'static str, code: &'static str, name: &'static str) -> AgencySpec {
    agency(
        key,
        code,
        AgencyKind::District,
        name,
        "UBND",
        Some("ubnd"),
        "1992-01-01",
        DISTRICT_UNITS,
    )
}

/// A commune that existed under a district before 2025 and goes on after it.
const fn old_commune(
    key: &'static str,
    code: &'static str,
    name: &'static str,
    district: &'static str,
) -> AgencySpec {
    agency(
        key,
        code,
        AgencyKind::Commune,
        name,
        "UBND",
        Some(district),
        "1992-01-01",
        &[],
    )
}

/// A commune or ward formed on 1 July 2025, directly under the province.
const fn new_local(
    key: &'static str,
    code: &'static str,
    kind: AgencyKind,
    name: &'static str,
) -> AgencySpec {
    agency(
        key,
        code,
        kind,
        name,
        "UBND",
        Some("ubnd"),
        LOCAL_GOVERNMENT_DAY,
        &[],
    )
}

const VP: (&str, &str) = ("Văn phòng", "VP");
const KHTC: (&str, &str) = ("Phòng Kế hoạch - Tài chính", "KHTC");

/// A district's units move to the commune at its seat on 1 July 2025, so they carry
/// the names that commune units have.
const DISTRICT_UNITS: &[(&str, &str)] = &[
    ("Văn phòng HĐND và UBND", "VP"),
    ("Phòng Kinh tế", "KT"),
    ("Phòng Văn hóa - Xã hội", "VHXH"),
];

/// Units of every commune since 1 July 2025 (Văn phòng, two phòng, the one-stop centre).
pub(super) const COMMUNE_UNITS: &[(&str, &str)] = &[
    ("Văn phòng HĐND và UBND", "VP"),
    ("Phòng Kinh tế", "KT"),
    ("Phòng Văn hóa - Xã hội", "VHXH"),
    ("Trung tâm Phục vụ hành chính công", "TTPVHCC"),
];

/// Wards have an economy, infrastructure and urban affairs office instead.
pub(super) const WARD_UNITS: &[(&str, &str)] = &[
    ("Văn phòng HĐND và UBND", "VP"),
    ("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTĐT"),
    ("Phòng Văn hóa - Xã hội", "VHXH"),
    ("Trung tâm Phục vụ hành chính công", "TTPVHCC"),
];

/// Parents come before their children.
#[rustfmt::skip]
pub(super) const AGENCIES: &[AgencySpec] = &[
    agency("ubnd", COMMITTEE_CODE, AgencyKind::ProvincialCommittee, COMMITTEE_NAME, "UBND", None, "1992-01-01",
        &[("Phòng Hành chính - Tổ chức", "HCTC"), ("Phòng Kinh tế", "KT"), ("Phòng Khoa giáo - Văn xã", "KGVX"),
          ("Phòng Nội chính", "NC")]),
    dept("vpubnd", "000.00.01.H62", "Văn phòng Ủy ban nhân dân tỉnh", "VPUBND", "1992-01-01",
        &[("Phòng Tổng hợp", "TH"), ("Phòng Quản trị - Tài vụ", "QTTV"), ("Cổng Thông tin điện tử", "CTTĐT")]),
    dept("snv", "000.00.02.H62", "Sở Nội vụ", "SNV", "1992-01-01",
        &[VP, ("Phòng Tổ chức, biên chế", "TCBC"), ("Phòng Công chức, viên chức", "CCVC")]),
    dept("stc", "000.00.03.H62", "Sở Tài chính", "STC", "1992-01-01",
        &[VP, ("Phòng Quản lý ngân sách", "QLNS"), ("Phòng Tài chính doanh nghiệp", "TCDN")]),
    dept("sxd", "000.00.04.H62", "Sở Xây dựng", "SXD", "1992-01-01",
        &[VP, ("Phòng Quản lý xây dựng", "QLXD"), ("Phòng Quy hoạch - Kiến trúc", "QHKT")]),
    dept("sct", "000.00.05.H62", "Sở Công Thương", "SCT", "2008-04-01",
        &[VP, ("Phòng Quản lý thương mại", "QLTM"), ("Phòng Quản lý công nghiệp", "QLCN")]),
    dept("sgddt", "000.00.06.H62", "Sở Giáo dục và Đào tạo", "SGDĐT", "1992-01-01",
        &[VP, ("Phòng Giáo dục phổ thông", "GDPT"), ("Phòng Tổ chức cán bộ", "TCCB")]),
    dept("syt", "000.00.07.H62", "Sở Y tế", "SYT", "1992-01-01",
        &[VP, ("Phòng Nghiệp vụ Y", "NVY"), ("Phòng Nghiệp vụ Dược", "NVD")]),
    dept("skhcn", "000.00.08.H62", SKHCN_NAME, "SKHCN", "1992-01-01",
        &[VP, KHTC, ("Phòng Quản lý khoa học", "QLKH")]),
    dept("stp", "000.00.09.H62", "Sở Tư pháp", "STP", "1992-01-01",
        &[VP, ("Phòng Xây dựng và kiểm tra văn bản", "XDKTVB"), ("Phòng Hành chính tư pháp", "HCTP")]),
    // Merged into the Sở KH&CN on 1 March 2025: its units and people move there.
    dept("stttt", "000.00.10.H62", "Sở Thông tin và Truyền thông", "STTTT", "2008-01-01",
        &[("Phòng Bưu chính, Viễn thông và Công nghệ thông tin", "BCVTCNTT"), ("Phòng Chuyển đổi số", "CĐS")]),
    dept("svhttdl", "000.00.11.H62", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", "2008-04-01",
        &[VP, ("Phòng Quản lý văn hóa", "QLVH"), ("Phòng Quản lý du lịch", "QLDL")]),
    dept("snnmt", "000.00.12.H62", "Sở Nông nghiệp và Môi trường", "SNNMT", MERGE_DAY, &[VP, KHTC]),
    dept("stnmt", "000.00.13.H62", "Sở Tài nguyên và Môi trường", "STNMT", "2003-01-01",
        &[("Phòng Quản lý đất đai", "QLĐĐ"), ("Phòng Môi trường", "MT")]),
    dept("snnptnt", "000.00.14.H62", "Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT", "1992-01-01",
        &[("Phòng Trồng trọt và Bảo vệ thực vật", "TTBVTV"), ("Phòng Quản lý xây dựng công trình", "QLXDCT")]),
    dept("skhdt", "000.00.15.H62", "Sở Kế hoạch và Đầu tư", "SKHĐT", "1992-01-01",
        &[("Phòng Đăng ký kinh doanh", "ĐKKD"), ("Phòng Đấu thầu, thẩm định và giám sát đầu tư", "ĐTTĐGS")]),
    dept("sldtbxh", "000.00.16.H62", "Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", "1992-01-01",
        &[("Phòng Lao động - Việc làm", "LĐVL"), ("Phòng Người có công", "NCC")]),
    dept("sdttg", "000.00.17.H62", "Sở Dân tộc và Tôn giáo", "SDTTG", MERGE_DAY, &[VP, ("Phòng Tôn giáo", "TG")]),
    dept("bdt", "000.00.18.H62", "Ban Dân tộc", "BDT", "2005-01-01", &[("Phòng Chính sách dân tộc", "CSDT")]),
    dept("ttra", "000.00.19.H62", "Thanh tra tỉnh", "TTra", "1992-01-01",
        &[VP, ("Phòng Tiếp công dân và Xử lý đơn", "TCDXLĐ"), ("Phòng Phòng, chống tham nhũng", "PCTN")]),
    dept("bqlkcn", "000.00.20.H62", "Ban Quản lý các khu công nghiệp", "BQLCKCN", "2003-01-01",
        &[VP, ("Phòng Quản lý doanh nghiệp", "QLDN")]),
    dept("bqlkkt", "000.00.21.H62", "Ban Quản lý Khu kinh tế", "BQLKKT", LOCAL_GOVERNMENT_DAY,
        &[VP, ("Phòng Quản lý đầu tư", "QLĐT")]),
    agency("thvl", "000.00.22.H62", AgencyKind::Other, "Đài Phát thanh và Truyền hình Vĩnh Long", "THVL",
        Some("ubnd"), "1992-01-01", &[("Phòng Thời sự", "TS")]),
    agency("tthcc", "000.01.01.H62", AgencyKind::ServiceCentre, "Trung tâm Phục vụ hành chính công tỉnh", "TTPVHCC",
        Some("vpubnd"), "2020-01-01",
        &[("Bộ phận Tiếp nhận và Trả kết quả", "TNTKQ"), ("Phòng Hành chính - Tổng hợp", "HCTH")]),
    // The former districts (abolished on 1 July 2025) and their communes.
    district("hlh", "000.00.52.H62", "Huyện Long Hồ"),
    district("hmt", "000.00.53.H62", "Huyện Mang Thít"),
    district("hvl", "000.00.54.H62", "Huyện Vũng Liêm"),
    district("hto", "000.00.55.H62", "Huyện Trà Ôn"),
    old_commune("longho", LONG_HO_CODE, "Thị trấn Long Hồ", "hlh"),
    old_commune("phuquoi", "000.02.52.H62", "Xã Phú Quới", "hlh"),
    old_commune("anbinh", "000.03.52.H62", "Xã An Bình", "hlh"),
    old_commune("cainhum", "000.01.53.H62", "Thị trấn Cái Nhum", "hmt"),
    old_commune("nhonphu", "000.02.53.H62", "Xã Nhơn Phú", "hmt"),
    old_commune("binhphuoc", "000.03.53.H62", "Xã Bình Phước", "hmt"),
    old_commune("tanlonghoi", "000.04.53.H62", "Xã Tân Long Hội", "hmt"),
    old_commune("vungliem", "000.01.54.H62", "Thị trấn Vũng Liêm", "hvl"),
    old_commune("trungthanh", "000.02.54.H62", "Xã Trung Thành", "hvl"),
    old_commune("quoithien", "000.03.54.H62", "Xã Quới Thiện", "hvl"),
    old_commune("hieuphung", "000.04.54.H62", "Xã Hiếu Phụng", "hvl"),
    old_commune("trunghiep", "000.05.54.H62", "Xã Trung Hiệp", "hvl"),
    old_commune("traon", "000.01.55.H62", "Thị trấn Trà Ôn", "hto"),
    old_commune("hoabinh", "000.02.55.H62", "Xã Hòa Bình", "hto"),
    old_commune("tracon", "000.03.55.H62", "Xã Trà Côn", "hto"),
    old_commune("vinhxuan", "000.04.55.H62", "Xã Vĩnh Xuân", "hto"),
    old_commune("lucsithanh", "000.05.55.H62", "Xã Lục Sĩ Thành", "hto"),
    // Communes and wards formed on 1 July 2025 (the former city of Vĩnh Long, town of
    // Bình Minh, and the areas of the former Bến Tre and Trà Vinh provinces).
    new_local("thanhduc", "000.01.51.H62", AgencyKind::Ward, "Phường Thanh Đức"),
    new_local("longchau", "000.02.51.H62", AgencyKind::Ward, "Phường Long Châu"),
    new_local("phuochau", "000.03.51.H62", AgencyKind::Ward, "Phường Phước Hậu"),
    new_local("tanhanh", "000.04.51.H62", AgencyKind::Ward, "Phường Tân Hạnh"),
    new_local("tanngai", "000.05.51.H62", AgencyKind::Ward, "Phường Tân Ngãi"),
    new_local("binhminh", "000.01.56.H62", AgencyKind::Ward, "Phường Bình Minh"),
    new_local("caivon", "000.02.56.H62", AgencyKind::Ward, "Phường Cái Vồn"),
    new_local("dongthanh", "000.03.56.H62", AgencyKind::Ward, "Phường Đông Thành"),
    new_local("anhoi", "000.01.60.H62", AgencyKind::Ward, "Phường An Hội"),
    new_local("phukhuong", "000.02.60.H62", AgencyKind::Ward, "Phường Phú Khương"),
    new_local("bentre", "000.03.60.H62", AgencyKind::Ward, "Phường Bến Tre"),
    new_local("sondong", "000.04.60.H62", AgencyKind::Ward, "Phường Sơn Đông"),
    new_local("phutan", "000.05.60.H62", AgencyKind::Ward, "Phường Phú Tân"),
    new_local("mocay", "000.01.61.H62", AgencyKind::Commune, "Xã Mỏ Cày"),
    new_local("batri", "000.02.61.H62", AgencyKind::Commune, "Xã Ba Tri"),
    new_local("giongtrom", "000.03.61.H62", AgencyKind::Commune, "Xã Giồng Trôm"),
    new_local("binhdai", "000.04.61.H62", AgencyKind::Commune, "Xã Bình Đại"),
    new_local("cholach", "000.05.61.H62", AgencyKind::Commune, "Xã Chợ Lách"),
    new_local("travinh", "000.01.70.H62", AgencyKind::Ward, "Phường Trà Vinh"),
    new_local("nguyethoa", "000.02.70.H62", AgencyKind::Ward, "Phường Nguyệt Hóa"),
    new_local("longduc", "000.03.70.H62", AgencyKind::Ward, "Phường Long Đức"),
    new_local("hoathuan", "000.04.70.H62", AgencyKind::Ward, "Phường Hòa Thuận"),
    new_local("canglong", "000.01.71.H62", AgencyKind::Commune, "Xã Càng Long"),
    new_local("cauke", "000.02.71.H62", AgencyKind::Commune, "Xã Cầu Kè"),
    new_local("tieucan", "000.03.71.H62", AgencyKind::Commune, "Xã Tiểu Cần"),
    new_local("caungang", "000.04.71.H62", AgencyKind::Commune, "Xã Cầu Ngang"),
    new_local("tracu", "000.05.71.H62", AgencyKind::Commune, "Xã Trà Cú"),
];

/// A merge effective on [`MERGE_DAY`].
pub(super) struct MergeSpec {
    pub subjects: &'static [&'static str],
    pub successor: &'static str,
    pub note: &'static str,
}

pub(super) const MERGES: &[MergeSpec] = &[
    MergeSpec {
        subjects: &["stttt"],
        successor: "skhcn",
        note: "Sở Thông tin và Truyền thông hợp nhất vào Sở Khoa học và Công nghệ; \
               báo chí, xuất bản chuyển Sở Văn hóa, Thể thao và Du lịch",
    },
    MergeSpec {
        subjects: &["stnmt", "snnptnt"],
        successor: "snnmt",
        note: "Hợp nhất Sở Tài nguyên và Môi trường và Sở Nông nghiệp và Phát triển nông thôn \
               thành Sở Nông nghiệp và Môi trường",
    },
    MergeSpec {
        subjects: &["skhdt"],
        successor: "stc",
        note: "Sở Kế hoạch và Đầu tư hợp nhất vào Sở Tài chính",
    },
    MergeSpec {
        subjects: &["sldtbxh"],
        successor: "snv",
        note: "Sở Lao động - Thương binh và Xã hội hợp nhất vào Sở Nội vụ",
    },
    MergeSpec {
        subjects: &["bdt"],
        successor: "sdttg",
        note: "Ban Dân tộc tổ chức lại thành Sở Dân tộc và Tôn giáo",
    },
];

/// A district abolished on [`LOCAL_GOVERNMENT_DAY`]: the town at its seat becomes a
/// commune and takes over the district's offices and staff, every commune moves
/// directly under the province.
pub(super) struct DistrictSpec {
    pub key: &'static str,
    pub seat: &'static str,
    pub seat_new_name: &'static str,
    pub communes: &'static [&'static str],
}

pub(super) const DISTRICTS: &[DistrictSpec] = &[
    DistrictSpec {
        key: "hlh",
        seat: "longho",
        seat_new_name: LONG_HO_NAME,
        communes: &["phuquoi", "anbinh"],
    },
    DistrictSpec {
        key: "hmt",
        seat: "cainhum",
        seat_new_name: "Xã Cái Nhum",
        communes: &["nhonphu", "binhphuoc", "tanlonghoi"],
    },
    DistrictSpec {
        key: "hvl",
        seat: "vungliem",
        seat_new_name: "Xã Vũng Liêm",
        communes: &["trungthanh", "quoithien", "hieuphung", "trunghiep"],
    },
    DistrictSpec {
        key: "hto",
        seat: "traon",
        seat_new_name: "Xã Trà Ôn",
        communes: &["hoabinh", "tracon", "vinhxuan", "lucsithanh"],
    },
];

pub(super) struct PositionSpec {
    pub agency: &'static str,
    /// Short name of the unit, as of `from`.
    pub unit: Option<&'static str>,
    pub role: Role,
    pub title: &'static str,
    pub from: &'static str,
}

pub(super) struct PersonSpec {
    pub username: &'static str,
    pub full_name: &'static str,
    pub kind: PersonKind,
    pub positions: &'static [PositionSpec],
}

const fn at(
    agency: &'static str,
    unit: Option<&'static str>,
    role: Role,
    title: &'static str,
    from: &'static str,
) -> PositionSpec {
    PositionSpec {
        agency,
        unit,
        role,
        title,
        from,
    }
}

const fn staff(
    username: &'static str,
    full_name: &'static str,
    positions: &'static [PositionSpec],
) -> PersonSpec {
    PersonSpec {
        username,
        full_name,
        kind: PersonKind::Staff,
        positions,
    }
}

const T: &str = LOCAL_GOVERNMENT_DAY;

#[rustfmt::skip]
pub(super) const PEOPLE: &[PersonSpec] = &[
    // The People's Committee: the province administrator and the leadership.
    staff("admin", "Trần Quốc Huy", &[at("ubnd", None, Role::Admin, "Quản trị hệ thống", "2020-01-01")]),
    staff("chutich.ubnd", "Lê Văn Thành", &[at("ubnd", None, Role::Leader, "Chủ tịch", "2021-06-01")]),
    staff("phochutich.ubnd", "Nguyễn Thị Hồng Nhung", &[at("ubnd", None, Role::Leader, "Phó Chủ tịch", "2021-06-01")]),
    staff("vanthu.ubnd", "Phạm Thị Thu Trang", &[at("ubnd", Some("HCTC"), Role::Clerk, "Văn thư", "2016-03-01")]),
    staff("chuyenvien.ubnd", "Võ Minh Tâm", &[at("ubnd", Some("KT"), Role::Specialist, "Chuyên viên", "2018-01-01")]),
    // Văn phòng UBND tỉnh, which also runs the provincial portal.
    staff("chanhvanphong.vpubnd", "Huỳnh Văn Lợi", &[at("vpubnd", None, Role::Leader, "Chánh Văn phòng", "2020-01-01")]),
    staff("vanthu.vpubnd", "Đặng Thị Kim Ngân", &[at("vpubnd", Some("TH"), Role::Clerk, "Văn thư", "2017-05-01")]),
    staff("bientap.vpubnd", "Trương Thị Mỹ Linh",
        &[at("vpubnd", Some("CTTĐT"), Role::Editor, "Biên tập viên", "2019-03-01")]),
    // The provincial Public Administrative Service Centre.
    staff("giamdoc.tthcc", "Nguyễn Thanh Phong", &[at("tthcc", None, Role::Leader, "Giám đốc Trung tâm", "2020-01-01")]),
    staff("motcua.tthcc", "Lê Thị Ngọc Hân",
        &[at("tthcc", Some("TNTKQ"), Role::OneStopOfficer, "Công chức tiếp nhận và trả kết quả", "2020-01-01")]),
    // Sở Khoa học và Công nghệ: every role, part of the staff from the former Sở TT&TT.
    staff("giamdoc.skhcn", "Nguyễn Văn Hải", &[at("skhcn", None, Role::Leader, "Giám đốc", "2019-08-01")]),
    staff("phogiamdoc.skhcn", "Phan Thanh Bình", &[at("stttt", None, Role::Leader, "Giám đốc", "2016-01-01")]),
    staff("quantri.skhcn", "Lâm Quốc Việt", &[at("skhcn", Some("VP"), Role::Admin, "Quản trị hệ thống", "2021-01-01")]),
    staff("vanthu.skhcn", "Nguyễn Thị Thanh Thảo", &[at("skhcn", Some("VP"), Role::Clerk, "Văn thư", "2018-04-01")]),
    staff("truongphong.skhcn", "Lê Hoàng Nam",
        &[at("stttt", Some("BCVTCNTT"), Role::UnitHead, "Trưởng phòng", "2015-06-01")]),
    staff("chuyenvien.skhcn", "Trần Thị Bích Ngọc",
        &[at("stttt", Some("BCVTCNTT"), Role::Specialist, "Chuyên viên", "2018-09-01")]),
    staff("chuyenvien2.skhcn", "Đỗ Minh Khoa", &[at("stttt", Some("CĐS"), Role::Specialist, "Chuyên viên", "2021-01-01")]),
    staff("truongphong2.skhcn", "Huỳnh Thị Lan", &[at("skhcn", Some("QLKH"), Role::UnitHead, "Trưởng phòng", "2017-07-01")]),
    staff("chuyenvien3.skhcn", "Võ Thanh Tùng", &[at("skhcn", Some("QLKH"), Role::Specialist, "Chuyên viên", "2020-02-01")]),
    staff("motcua.skhcn", "Phạm Văn Đức",
        &[at("skhcn", Some("VP"), Role::OneStopOfficer, "Cán bộ tiếp nhận và trả kết quả", "2020-06-01")]),
    staff("bientap.skhcn", "Ngô Thị Phương Thảo", &[at("skhcn", Some("VP"), Role::Editor, "Biên tập viên", "2022-03-01")]),
    // Other departments: a leader and a clerk in most of them.
    staff("giamdoc.syt", "Lâm Văn Tuấn", &[at("syt", None, Role::Leader, "Giám đốc", "2020-09-01")]),
    staff("vanthu.syt", "Trần Thị Mai", &[at("syt", Some("VP"), Role::Clerk, "Văn thư", "2015-01-01")]),
    staff("chuyenvien.syt", "Bùi Quang Vinh", &[at("syt", Some("NVY"), Role::Specialist, "Chuyên viên", "2019-01-01")]),
    staff("giamdoc.stc", "Châu Minh Trí", &[at("stc", None, Role::Leader, "Giám đốc", "2021-01-01")]),
    staff("vanthu.stc", "Nguyễn Thị Ánh Tuyết", &[at("stc", Some("VP"), Role::Clerk, "Văn thư", "2016-01-01")]),
    staff("motcua.stc", "Dương Văn Khánh",
        &[at("skhdt", Some("ĐKKD"), Role::OneStopOfficer, "Cán bộ đăng ký kinh doanh", "2017-01-01")]),
    staff("giamdoc.snv", "Thái Văn Sơn", &[at("snv", None, Role::Leader, "Giám đốc", "2020-01-01")]),
    staff("vanthu.snv", "Lý Thị Hoa", &[at("snv", Some("VP"), Role::Clerk, "Văn thư", "2018-01-01")]),
    staff("chuyenvien.snv", "Hồ Thị Diễm", &[at("sldtbxh", Some("LĐVL"), Role::Specialist, "Chuyên viên", "2016-05-01")]),
    staff("giamdoc.sgddt", "Kiều Văn Tâm", &[at("sgddt", None, Role::Leader, "Giám đốc", "2019-01-01")]),
    staff("vanthu.sgddt", "Phan Thị Yến", &[at("sgddt", Some("VP"), Role::Clerk, "Văn thư", "2014-09-01")]),
    staff("vanthu.sxd", "Tạ Văn Hùng", &[at("sxd", Some("VP"), Role::Clerk, "Văn thư", "2017-01-01")]),
    staff("vanthu.stp", "Đoàn Thị Ngọc", &[at("stp", Some("VP"), Role::Clerk, "Văn thư", "2018-01-01")]),
    staff("vanthu.sct", "Mai Văn Lộc", &[at("sct", Some("VP"), Role::Clerk, "Văn thư", "2019-01-01")]),
    staff("vanthu.svhttdl", "Quách Thị Nga", &[at("svhttdl", Some("VP"), Role::Clerk, "Văn thư", "2016-01-01")]),
    staff("vanthu.snnmt", "Lưu Thị Bé", &[at("snnmt", Some("VP"), Role::Clerk, "Văn thư", MERGE_DAY)]),
    staff("giamdoc.snnmt", "Cao Văn Nghĩa", &[at("snnmt", None, Role::Leader, "Giám đốc", MERGE_DAY)]),
    staff("vanthu.ttra", "Vương Thị Lệ", &[at("ttra", Some("VP"), Role::Clerk, "Văn thư", "2015-01-01")]),
    // Communes and wards. Staff of the former districts moved to the seat commune.
    staff("vanthu.xa", "Nguyễn Thị Cẩm Tú", &[at("hlh", Some("VP"), Role::Clerk, "Văn thư", "2012-03-01")]),
    staff("truongphong.longho", "Lê Văn Lâm", &[at("hlh", Some("KT"), Role::UnitHead, "Trưởng phòng", "2018-01-01")]),
    staff("chutich.longho", "Trần Văn Phúc", &[at("longho", None, Role::Leader, "Chủ tịch UBND xã", T)]),
    staff("quantri.longho", "Phạm Minh Nhựt", &[at("longho", Some("VP"), Role::Admin, "Quản trị hệ thống", T)]),
    staff("chuyenvien.longho", "Nguyễn Văn Tài", &[at("longho", Some("KT"), Role::Specialist, "Chuyên viên", T)]),
    staff("motcua.longho", "Võ Thị Kim Thoa",
        &[at("longho", Some("TTPVHCC"), Role::OneStopOfficer, "Công chức một cửa", T)]),
    staff("vanthu.cainhum", "Huỳnh Thị Trúc", &[at("hmt", Some("VP"), Role::Clerk, "Văn thư", "2014-01-01")]),
    staff("vanthu.thanhduc", "Đinh Thị Thu Hà", &[at("thanhduc", Some("VP"), Role::Clerk, "Văn thư", T)]),
    staff("chutich.thanhduc", "Trịnh Văn Bảo", &[at("thanhduc", None, Role::Leader, "Chủ tịch UBND phường", T)]),
    staff("motcua.thanhduc", "Lê Thị Thanh Xuân",
        &[at("thanhduc", Some("TTPVHCC"), Role::OneStopOfficer, "Công chức một cửa", T)]),
    staff("vanthu.travinh", "Thạch Thị Sa Rênh", &[at("travinh", Some("VP"), Role::Clerk, "Văn thư", T)]),
    staff("vanthu.mocay", "Nguyễn Văn Út", &[at("mocay", Some("VP"), Role::Clerk, "Văn thư", T)]),
    // A citizen and a business, with no positions.
    PersonSpec { username: "congdan.demo", full_name: "Nguyễn Văn An", kind: PersonKind::Citizen, positions: &[] },
    PersonSpec { username: "doanhnghiep.demo", full_name: "Công ty TNHH Công nghệ Cửu Long",
        kind: PersonKind::Business, positions: &[] },
];

/// A title that changed with a reorganisation: the director of the former Sở TT&TT
/// is a deputy director of Sở KH&CN from the day of the merger.
pub(super) struct RetitleSpec {
    pub username: &'static str,
    pub agency: &'static str,
    pub role: Role,
    pub title: &'static str,
    pub on: &'static str,
}

pub(super) const RETITLES: &[RetitleSpec] = &[RetitleSpec {
    username: "phogiamdoc.skhcn",
    agency: "skhcn",
    role: Role::Leader,
    title: "Phó Giám đốc",
    on: MERGE_DAY,
}];
