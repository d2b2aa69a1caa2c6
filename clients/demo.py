"""The demo agency's book of business: 40 invented Vietnamese clients with a year of history.

Everything is written through the clients services, so the rules, the SLA times and the notifications are the real
ones; only the moments are chosen (``occurred_at``, ``received_at``), never the clock. Each client draws from its
own random generator seeded by its tax code, so the data is the same on every run and a client skipped because it
already exists does not shift the others. Company, brand and people names are invented.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Role, User
from clients.models import (
    Activity,
    ActivityKind,
    Client,
    ClientStatus,
    Contact,
    Department,
    Handover,
    HandoverStatus,
    Industry,
    Language,
    Partner,
    PartnerKind,
    Priority,
    RelationshipLink,
    RelationshipStatus,
    Request,
    RequestKind,
    RequestStatus,
    Tag,
)
from clients.services import (
    activity_log,
    client_create,
    contact_create,
    handover_create,
    handover_set_status,
    next_step_complete,
    partner_create,
    partner_relationship_create,
    request_create,
    request_transition,
)
from clients.sla import add_business_minutes, allowed_minutes
from clients.text import fold
from core.money import Currency

SEED = "accord-demo-2026"
HN, HCM, DN, HP, CT = "Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ"
FMCG, BANK, ESTATE, SHOP, TELCO = (
    Industry.FMCG,
    Industry.BANKING,
    Industry.REAL_ESTATE,
    Industry.ECOMMERCE,
    Industry.TELECOM,
)
PROSPECT, AT_RISK, CHURNED = ClientStatus.PROSPECT, ClientStatus.AT_RISK, ClientStatus.CHURNED
BRANCH_NOTE = "Chi nhánh hạch toán độc lập: hóa đơn xuất theo mã số thuế của chi nhánh."


@dataclass(frozen=True)
class DemoClient:
    name: str
    legal_name: str
    tax_code: str
    industry: str
    tier: str
    city: str
    owner: str  # the owner's e-mail local part in seed_demo.PEOPLE
    domain: str  # e-mail and web domain, under .example
    tags: tuple[str, ...] = ()
    status: str = ClientStatus.ACTIVE
    idle_days: int = 0  # > 0: nobody has touched the account for that long
    currency: str = Currency.VND
    english: bool = False  # foreign-owned: most contacts prefer English
    notes: str = ""


C = DemoClient
CLIENTS = [
    # FMCG
    C("Sữa Tươi Ba Vì", "Công ty Cổ phần Sữa Tươi Ba Vì", "0145881390", FMCG, "A", HN, "am.ha", "suatuoibavi",
      ("Tết", "TVC", "KOL", "Key account")),
    C("Sữa Tươi Ba Vì – Hải Phòng", "Chi nhánh Công ty Cổ phần Sữa Tươi Ba Vì tại Hải Phòng", "0145881390-001",
      FMCG, "C", HP, "am.lan", "suatuoibavi", ("Trade marketing",), notes=BRANCH_NOTE),
    C("Bánh Kẹo Hương Cốm", "Công ty Cổ phần Bánh Kẹo Hương Cốm", "0188698791", FMCG, "B", HN, "am.thang",
      "banhkeohuongcom", ("Tết", "Trade marketing")),
    C("Trà Xanh Đồi Chè", "Công ty Cổ phần Trà Xanh Đồi Chè", "0173091147", FMCG, "C", HN, "am.thang",
      "traxanhdoiche", ("Social",)),
    C("Nước Mắm Cửa Biển", "Công ty TNHH Nước Mắm Cửa Biển", "0276663639", FMCG, "B", HP, "am.lan",
      "nuocmamcuabien", ("TVC", "Sampling")),
    C("Mì Gói Bếp Việt", "Công ty Cổ phần Thực phẩm Bếp Việt", "0346229481", FMCG, "A", HCM, "am.bao",
      "bepviet-food", ("Retainer", "TVC", "Key account")),
    C("Cà Phê Cao Nguyên Xanh", "Công ty TNHH Cà Phê Cao Nguyên Xanh", "0376283609", FMCG, "B", HCM, "am.nhung",
      "caphecaonguyenxanh", ("Social", "Sự kiện")),
    C("Mỹ Phẩm Hương Bưởi", "Công ty TNHH Mỹ Phẩm Hương Bưởi", "0346105503", FMCG, "C", HCM, "am.tung",
      "huongbuoi", ("KOL", "Social"), idle_days=45),
    # Banking and finance
    C("Ngân hàng Phương Nam Số", "Ngân hàng Thương mại Cổ phần Phương Nam Số", "0348754750", BANK, "A", HCM,
      "am.bao", "phuongnamso-bank", ("Retainer", "Digital", "Key account")),
    C("Ngân hàng Phương Nam Số – Cần Thơ", "Ngân hàng TMCP Phương Nam Số – Chi nhánh Cần Thơ", "0348754750-001",
      BANK, "C", CT, "am.nhung", "phuongnamso-bank", ("Sự kiện",), notes=BRANCH_NOTE),
    C("Ngân hàng Kinh Bắc Thịnh Vượng", "Ngân hàng Thương mại Cổ phần Kinh Bắc Thịnh Vượng", "0147075364", BANK,
      "A", HN, "am.ha", "kinhbacbank", ("Retainer", "OOH", "Key account")),
    C("Ví điện tử HoaMai Pay", "Công ty Cổ phần Thanh toán Hoa Mai", "0388369579", BANK, "B", HCM, "am.tung",
      "hoamaipay", ("Performance", "Digital"), english=True),
    C("Bảo hiểm Nhân thọ An Khang", "Công ty TNHH Bảo hiểm Nhân thọ An Khang Việt Nam", "0165568154", BANK, "B",
      HN, "am.lan", "ankhang-life", ("PR", "CSR"), currency=Currency.USD, english=True),
    C("Chứng khoán Sông Hồng", "Công ty Cổ phần Chứng khoán Sông Hồng", "0148844728", BANK, "C", HN, "am.thang",
      "chungkhoansonghong", ("Digital",)),
    C("Tài chính Nhà Mới", "Công ty Tài chính TNHH MTV Nhà Mới", "0383186035", BANK, "B", HCM, "am.nhung",
      "nhamoi-finance", ("Performance",), status=AT_RISK, idle_days=75,
      notes="Đối thủ đang chào giá; khách hàng phàn nàn về tốc độ xử lý sự cố."),
    C("Quản lý Quỹ Bạch Đằng", "Công ty Cổ phần Quản lý Quỹ Bạch Đằng", "0286452919", BANK, "C", HP, "sales.nhu",
      "quybachdang", ("Pitch",), status=PROSPECT),
    # Real estate
    C("Hồng Lam Land", "Công ty Cổ phần Đầu tư Bất động sản Hồng Lam", "0199405574", ESTATE, "A", HN, "am.thang",
      "honglamland", ("Sự kiện", "OOH", "Key account")),
    C("Hồng Lam Land – Đà Nẵng", "Chi nhánh Công ty Cổ phần Đầu tư Bất động sản Hồng Lam tại Đà Nẵng",
      "0199405574-001", ESTATE, "C", DN, "am.ha", "honglamland", ("Sự kiện",), notes=BRANCH_NOTE),
    C("Sông Hàn Riverside", "Công ty TNHH Phát triển Đô thị Sông Hàn", "0484506041", ESTATE, "B", DN, "am.lan",
      "songhanriverside", ("Sự kiện", "Digital")),
    C("Kiến Phát Homes", "Công ty Cổ phần Địa ốc Kiến Phát", "0392080733", ESTATE, "B", HCM, "am.bao",
      "kienphathomes", ("Performance", "Sự kiện")),
    C("Phù Sa Land", "Công ty Cổ phần Bất động sản Phù Sa", "1897943260", ESTATE, "C", CT, "am.tung", "phusaland",
      ("OOH",), idle_days=75),
    C("Khu công nghiệp Bến Rồng", "Công ty Cổ phần Hạ tầng Khu công nghiệp Bến Rồng", "0268084589", ESTATE, "C", HP,
      "am.ha", "benrong-ip", ("PR",), english=True),
    C("Bình Minh Garden", "Công ty Cổ phần Đầu tư Bình Minh", "0352646860", ESTATE, "B", HCM, "am.nhung",
      "binhminhgarden", ("Sự kiện", "KOL")),
    C("Vạn An Residences", "Công ty TNHH Vạn An", "0370283828", ESTATE, "B", HCM, "sales.khoi", "vanan-residences",
      ("Pitch",), status=PROSPECT),
    # E-commerce and retail
    C("Chợ Phố", "Công ty Cổ phần Thương mại Điện tử Chợ Phố", "0346425246", SHOP, "A", HCM, "am.tung", "chopho",
      ("Performance", "Livestream", "Key account"), english=True),
    C("Giỏ Xanh", "Công ty TNHH Giỏ Xanh", "0171698715", SHOP, "B", HN, "am.ha", "gioxanh", ("Performance", "Social")),
    C("Mẹ và Bé Bống", "Công ty Cổ phần Mẹ và Bé Bống", "0178976841", SHOP, "B", HN, "am.lan", "mebong",
      ("KOL", "Social"), status=AT_RISK, idle_days=75,
      notes="Hai sự cố khẩn chưa xử lý xong; cần gặp lại giám đốc marketing."),
    C("Điện máy Sao Mai", "Công ty Cổ phần Điện máy Sao Mai", "0474146590", SHOP, "B", DN, "am.bao",
      "dienmaysaomai", ("OOH", "Performance")),
    C("Thời trang Mộc Miên", "Công ty TNHH Thời trang Mộc Miên", "0377647256", SHOP, "C", HCM, "am.nhung",
      "mocmien", ("KOL", "Livestream")),
    C("Sách Trang Vàng", "Công ty Cổ phần Sách Trang Vàng", "0179788093", SHOP, "C", HN, "am.thang",
      "sachtrangvang", ("Social",), idle_days=45),
    C("Giao vận Én Bạc", "Công ty Cổ phần Giao vận Én Bạc", "0387718844", SHOP, "B", HCM, "sales.khoi", "enbac",
      ("Pitch",), status=PROSPECT),
    C("Siêu thị Phố Hội", "Công ty TNHH Bán lẻ Phố Hội", "0458538015", SHOP, "C", DN, "sales.nhu", "phohoimart",
      ("Pitch",), status=PROSPECT),
    # Telecom
    C("Viễn thông Sóng Việt", "Công ty Cổ phần Viễn thông Sóng Việt", "0152081966", TELCO, "A", HN, "am.ha",
      "songviet-telecom", ("Retainer", "TVC", "Key account")),
    C("Lạc Hồng Mobile", "Công ty Cổ phần Viễn thông Lạc Hồng", "0343301757", TELCO, "A", HCM, "am.bao",
      "lachongmobile", ("Retainer", "Digital", "Key account")),
    C("Lạc Hồng Mobile – Đà Nẵng", "Chi nhánh Công ty Cổ phần Viễn thông Lạc Hồng tại Đà Nẵng", "0343301757-001",
      TELCO, "C", DN, "am.nhung", "lachongmobile", ("Trade marketing",), notes=BRANCH_NOTE),
    C("Internet Mây Trời", "Công ty TNHH Dịch vụ Internet Mây Trời", "0378205250", TELCO, "B", HCM, "am.tung",
      "maytroi-net", ("Performance",)),
    C("Truyền hình Ánh Sao", "Công ty Cổ phần Truyền hình Ánh Sao", "0172731771", TELCO, "B", HN, "am.thang",
      "anhsaotv", ("TVC", "PR")),
    C("Dữ liệu Bắc Hà", "Công ty Cổ phần Dữ liệu Bắc Hà", "0198486482", TELCO, "C", HN, "am.lan", "bachadata",
      ("PR",), status=CHURNED, notes="Dừng hợp tác khi hết hợp đồng retainer; vẫn giữ liên lạc với phòng marketing."),
    C("Viễn thông Cảng Biển", "Công ty TNHH Viễn thông Cảng Biển", "0270037032", TELCO, "C", HP, "sales.nhu",
      "cangbien-telecom", ("Pitch",), status=PROSPECT),
    C("Chín Rồng Telecom", "Công ty TNHH Chín Rồng Telecom", "1847058609", TELCO, "C", CT, "sales.khoi",
      "chinrong-telecom", ("Pitch",), status=PROSPECT, english=True),
]  # fmt: skip


@dataclass(frozen=True)
class DemoPartner:
    name: str
    kind: str
    tax_code: str
    domain: str
    phone: str
    industries: tuple[str, ...]  # whose accounts it works on
    roles: tuple[str, ...]
    notes: str = ""


P = DemoPartner
PARTNERS = [
    P("Nước Khoáng Suối Ngàn", PartnerKind.SPONSOR, "0198766345", "suoingan", "+84 24 3562 7781", (ESTATE, BANK),
      ("Nhà tài trợ đồng hành sự kiện", "Tài trợ nước uống cho giải chạy")),
    P("Nước Giải Khát Đồng Quê", PartnerKind.SPONSOR, "0389831940", "dongque-drinks", "+84 28 3821 4410",
      (TELCO, SHOP), ("Nhà tài trợ minigame", "Đồng tài trợ livestream")),
    P("Tư vấn Thương hiệu Chữ Vàng", PartnerKind.CONSULTANT, "0160029783", "chuvang", "+84 24 3771 2290",
      (FMCG, BANK), ("Tư vấn định vị thương hiệu", "Nghiên cứu tên sản phẩm")),
    P("Nghiên cứu Thị trường Hạt Mầm", PartnerKind.CONSULTANT, "0389394948", "hatmam-research", "+84 28 3930 6652",
      (FMCG, SHOP, TELCO), ("Khảo sát người tiêu dùng", "Đo lường hiệu quả chiến dịch")),
    P("Công ty Luật Minh Chính", PartnerKind.CONSULTANT, "0175347789", "luatminhchinh", "+84 24 3944 1170",
      (BANK, ESTATE), ("Rà soát pháp lý khuyến mại", "Tư vấn hợp đồng KOL"),
      "Đăng ký chương trình khuyến mại với Sở Công Thương."),
    P("In Ấn Phú Gia", PartnerKind.SUPPLIER, "0398214165", "inphugia", "+84 28 3758 9023", (FMCG, SHOP, TELCO),
      ("In ấn POSM", "In standee và backdrop")),
    P("Quà Tặng Hoa Sen Việt", PartnerKind.SUPPLIER, "0176804572", "hoasenviet-gifts", "+84 24 3636 4408",
      (BANK, ESTATE, FMCG), ("Quà tặng khách hàng ưu tiên", "Hộp quà Tết")),
    P("Sân Khấu Ánh Đèn", PartnerKind.SUPPLIER, "0147847268", "sankhauanhden", "+84 24 3211 5567", (ESTATE, BANK),
      ("Dựng sân khấu sự kiện", "Âm thanh ánh sáng")),
    P("Nhà Phim Gió Bấc", PartnerKind.PRODUCTION_HOUSE, "0197147511", "giobacfilms", "+84 24 3719 8832",
      (FMCG, TELCO), ("Sản xuất TVC", "Quay phim tài liệu thương hiệu")),
    P("Hải Đăng Studio", PartnerKind.PRODUCTION_HOUSE, "0351052180", "haidangstudio", "+84 28 3848 1206",
      (SHOP, FMCG, BANK), ("Chụp ảnh sản phẩm", "Sản xuất video ngắn")),
    P("Xưởng Hoạt Hình Cỏ May", PartnerKind.PRODUCTION_HOUSE, "0469110285", "comay-animation", "+84 236 3891 447",
      (BANK, TELCO), ("Sản xuất video hoạt hình", "Motion graphics")),
    P("Màn Hình Xanh OOH", PartnerKind.MEDIA_VENDOR, "0364914521", "manhinhxanh", "+84 28 3933 7015",
      (ESTATE, BANK, TELCO), ("Mua vị trí OOH", "Màn hình LED tòa nhà")),
    P("Mạng lưới KOL Cầu Vồng", PartnerKind.MEDIA_VENDOR, "0364106468", "cauvong-kol", "+84 28 3620 5581",
      (FMCG, SHOP), ("Booking KOL/KOC", "Livestream bán hàng"), "Hợp đồng khung theo năm; báo giá theo từng đợt."),
    P("Quảng cáo Sân bay Cánh Cò", PartnerKind.MEDIA_VENDOR, "0156270107", "canhco-airport", "+84 24 3584 2219",
      (BANK, ESTATE, TELCO), ("Quảng cáo tại sân bay",)),
    P("CLB Chạy bộ Phố Cổ", PartnerKind.OTHER, "", "chaybophoco", "+84 98 225 1430", (BANK, FMCG),
      ("Đối tác cộng đồng cho giải chạy",), "Câu lạc bộ, không có mã số thuế; thanh toán qua ban tổ chức."),
]  # fmt: skip

STREETS = {
    HN: ["Láng Hạ, Đống Đa", "Duy Tân, Cầu Giấy", "Trần Duy Hưng, Cầu Giấy", "Phạm Hùng, Nam Từ Liêm"],
    HCM: ["Nguyễn Huệ, Quận 1", "Lê Duẩn, Quận 1", "Điện Biên Phủ, Bình Thạnh", "Nguyễn Văn Linh, Quận 7"],
    DN: ["Bạch Đằng, Hải Châu", "Nguyễn Văn Linh, Hải Châu", "Võ Nguyên Giáp, Sơn Trà"],
    HP: ["Lạch Tray, Ngô Quyền", "Trần Phú, Ngô Quyền", "Lê Hồng Phong, Hải An"],
    CT: ["Trần Hưng Đạo, Ninh Kiều", "Hòa Bình, Ninh Kiều", "Nguyễn Văn Cừ, Ninh Kiều"],
}
AREA_CODES = {HN: "24", HCM: "28", DN: "236", HP: "225", CT: "292"}
PAYMENT_TERMS = {FMCG: 45, BANK: 60, ESTATE: 30, SHOP: 30, TELCO: 60}

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
SURNAME_WEIGHTS = [38, 11, 9, 7, 5, 4, 4, 4, 4, 3, 3, 3, 2, 2]
WOMEN_MIDDLE = ["Thị", "Ngọc", "Thu", "Thanh", "Phương", "Khánh", "Thị Thu", "Ngọc Bảo", "Thùy", "Hồng"]
WOMEN_GIVEN = ["Trang", "Linh", "Hương", "Thảo", "Ngân", "Vy", "Anh", "Hằng", "Huyền", "Yến", "Quyên", "Trâm", "Uyên"]
MEN_MIDDLE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Tuấn", "Thành", "Hoàng", "Gia", "Quốc Anh"]
MEN_GIVEN = ["Dũng", "Hùng", "Nam", "Long", "Sơn", "Khang", "Phúc", "Hiếu", "Trung", "Quân", "Duy", "Khoa", "Thịnh"]
MOBILE_PREFIXES = ["90", "91", "93", "94", "96", "97", "98", "86", "88", "89", "77", "79", "83", "35"]

DECISION_TITLES = {
    FMCG: ["Giám đốc Marketing", "Giám đốc Ngành hàng", "CMO"],
    BANK: ["Giám đốc Khối Marketing", "Giám đốc Truyền thông và Thương hiệu", "Phó Tổng Giám đốc phụ trách Bán lẻ"],
    ESTATE: ["Giám đốc Marketing", "Giám đốc Kinh doanh dự án", "Phó Tổng Giám đốc"],
    SHOP: ["Head of Marketing", "Giám đốc Tăng trưởng", "CMO"],
    TELCO: ["Giám đốc Trung tâm Truyền thông", "Giám đốc Marketing", "Giám đốc Sản phẩm"],
}
DAY_TO_DAY_TITLES = {
    FMCG: ["Brand Manager", "Senior Brand Manager", "Trade Marketing Manager"],
    BANK: ["Trưởng phòng Truyền thông", "Chuyên viên cao cấp Marketing số", "Product Marketing Manager"],
    ESTATE: ["Trưởng phòng Marketing dự án", "Marketing Executive", "Chuyên viên Truyền thông"],
    SHOP: ["Performance Marketing Lead", "Brand Manager", "Campaign Manager"],
    TELCO: ["Product Marketing Manager", "Trưởng nhóm Digital Marketing", "Brand Manager"],
}
BILLING_TITLES = ["Kế toán trưởng", "Chuyên viên Kế toán Công nợ", "Trưởng phòng Tài chính – Kế toán", "Kế toán"]
OTHER_TITLES = ["Chuyên viên Mua hàng", "Trưởng phòng PR", "Social Media Lead", "Trưởng phòng Nghiên cứu Thị trường"]
CONTACT_NOTES = [
    "Thích nhận báo cáo dạng slide ngắn; gọi trước 10 giờ sáng.",
    "Duyệt mọi ngân sách trên 500 triệu đồng.",
    "Hóa đơn gửi bản PDF qua e-mail trước ngày 25 hằng tháng.",
    "Đầu mối mới từ quý này, cần giới thiệu lại quy trình làm việc.",
    "Hay nhắn Zalo ngoài giờ; ưu tiên trả lời trong ngày.",
]

# What an account in each industry works on, month by month (January first): FMCG and retail follow the
# shopping calendar, so they are in step; the others run on their own clock (each client starts somewhere else).
CAMPAIGNS = {
    FMCG: ["Tết sum vầy"] + ["ra mắt vị mới"] * 2 + ["Mùa hè sảng khoái"] * 3 + ["Back to school"]
    + ["Trung thu đoàn viên"] * 2 + ["sampling siêu thị"] + ["Tết sum vầy"] * 2,
    BANK: ["tri ân khách hàng dịp Tết"] + ["mở tài khoản online"] * 2 + ["thẻ tín dụng hoàn tiền"] * 3
    + ["vay mua nhà ưu đãi"] * 3 + ["app ngân hàng số mới"] * 2 + ["tri ân khách hàng dịp Tết"],
    ESTATE: ["ra mắt nhà mẫu"] * 3 + ["mở bán phân khu Hoa Sữa"] * 3 + ["bàn giao căn hộ đợt 2"] * 3
    + ["hội thảo nhà đầu tư"] * 3,
    SHOP: ["ngày hội mua sắm Tết"] + ["thành viên thân thiết"] * 2 + ["sale giữa năm 6.6"] * 3
    + ["livestream cuối tuần"] + ["siêu sale 9.9"] * 2 + ["siêu sale 11.11"] * 2 + ["sale cuối năm 12.12"],
    TELCO: ["eSIM du lịch dịp Tết"] * 2 + ["gói cước 5G gia đình"] * 4 + ["gói data sinh viên"] * 3
    + ["cáp quang cho hộ gia đình"] * 3,
}  # fmt: skip
SEASONAL = {FMCG, SHOP}
SUBJECTS = {
    ActivityKind.CALL: [
        "Gọi {person} cập nhật tiến độ {campaign}",
        "Trao đổi nhanh với {person} về ngân sách {campaign}",
        "Gọi {person} xác nhận lịch duyệt kịch bản",
        "Gọi {person} nhắc phê duyệt báo giá {campaign}",
    ],
    ActivityKind.MEETING: [
        "Họp kick-off {campaign}",
        "Họp duyệt concept {campaign} với {person}",
        "Họp review kết quả {campaign}",
        "Gặp {person} tại văn phòng khách hàng: ưu tiên quý {quarter}",
    ],
    ActivityKind.EMAIL: [
        "Gửi proposal {campaign}",
        "Gửi key visual {campaign} bản chỉnh sửa",
        "Gửi media plan {campaign} cho {person}",
        "Gửi biên bản họp và action items",
        "Xác nhận timeline sản xuất {campaign}",
    ],
    ActivityKind.NOTE: [
        "Ghi chú: đối thủ vừa tung chiến dịch tương tự",
        "Ghi chú: khách hàng muốn tăng tỷ trọng ngân sách digital",
        "Ghi chú: {person} nghỉ phép, làm việc với đầu mối dự phòng",
        "Ghi chú: cần hồ sơ đăng ký khuyến mại với Sở Công Thương",
    ],
    ActivityKind.STATUS_REPORT: [
        "Báo cáo tháng {month}/{year}: {campaign}",
        "Báo cáo hiệu quả tuần {week}: {campaign}",
        "Báo cáo nghiệm thu giai đoạn: {campaign}",
    ],
}
BODIES = [
    "Khách hàng đồng ý với hướng đi chính, cần chỉnh lại thông điệp cho nhóm khách hàng trẻ.",
    "Ngân sách giữ nguyên; khách hàng muốn dời ngày on-air thêm một tuần.",
    "Đã thống nhất timeline; agency gửi bản chỉnh sửa trước thứ Sáu.",
    "Khách hàng hỏi thêm phương án cắt giảm 10% chi phí sản xuất.",
    "Ban giám đốc bên khách hàng muốn xem lại số liệu trước khi duyệt.",
    "",
]
REPORT_BODY = "Reach {reach} triệu, CTR {ctr}%, đã chi {spent}% ngân sách. Đề xuất dồn ngân sách cho kênh tốt nhất."
PROSPECT_SUBJECTS = [
    (ActivityKind.CALL, "Gọi giới thiệu dịch vụ agency với {person}"),
    (ActivityKind.EMAIL, "Gửi hồ sơ năng lực agency cho {person}"),
    (ActivityKind.MEETING, "Gặp {person} tìm hiểu nhu cầu {campaign}"),
    (ActivityKind.NOTE, "Ghi chú: khách hàng đang làm việc với hai agency khác"),
    (ActivityKind.MEETING, "Pitch ý tưởng {campaign}"),
]
NEXT_STEPS = [
    "Gửi lại key visual bản chỉnh sửa",
    "Gọi xác nhận lịch quay TVC",
    "Gửi báo giá gia hạn hợp đồng",
    "Chốt danh sách KOL với khách hàng",
    "Nhắc khách hàng duyệt kịch bản",
    "Gửi biên bản nghiệm thu tháng",
    "Xin phản hồi về proposal",
    "Hẹn lịch khảo sát địa điểm sự kiện",
]
PROSPECT_NEXT_STEPS = ["Gửi proposal sơ bộ", "Hẹn lịch pitch với ban giám đốc", "Gọi lại sau buổi họp nội bộ của khách"]
# Days from today to the open next step of an owner's 1st, 2nd, ... healthy client: each owner gets overdue ones.
NEXT_STEP_OFFSETS = [-6, 1, -2, 9, 0, 4, -11, 14]

BRIEF_TITLES = {
    FMCG: ["Brief chiến dịch Tết {tet}", "Brief ra mắt vị mới", "Brief sampling tại siêu thị"],
    BANK: ["Brief chiến dịch mở tài khoản online", "Brief ra mắt thẻ tín dụng hoàn tiền", "Brief sự kiện tri ân"],
    ESTATE: ["Brief sự kiện mở bán phân khu mới", "Brief video flycam dự án", "Brief hội thảo nhà đầu tư"],
    SHOP: ["Brief siêu sale 12.12", "Brief livestream bán hàng cuối tuần", "Brief chương trình thành viên"],
    TELCO: ["Brief ra mắt gói cước 5G gia đình", "Brief chiến dịch eSIM du lịch", "Brief khuyến mại sinh viên"],
}
# By the department that takes the work; a request nobody is handed yet draws from all of its kind.
REQUEST_TITLES = {
    RequestKind.CHANGE: {
        "Creative": ["Đổi key visual theo góp ý của ban giám đốc", "Bổ sung logo nhà tài trợ lên backdrop"],
        "Digital": ["Cập nhật giá khuyến mãi trên landing page", "Đổi nội dung quảng cáo Facebook theo giá mới"],
        "Production house": ["Dời lịch quay TVC sang tuần sau", "Sửa kịch bản video 30 giây (bản 3)"],
        "Media": ["Dời lịch phát sóng TVC sang tuần sau", "Đổi vị trí biển quảng cáo ngoài trời"],
    },
    RequestKind.INCIDENT: {
        "Digital": [
            "Banner sai giá trên sàn thương mại điện tử",
            "Landing page đăng ký bị lỗi trên iOS",
            "Bài đăng fanpage bị phản ứng tiêu cực",
            "Quảng cáo bị nền tảng từ chối duyệt",
        ],
        "Media": ["Biển quảng cáo ngoài trời bị hỏng sau mưa bão", "TVC phát sóng sai khung giờ"],
    },
    RequestKind.QUESTION: {
        "": [
            "Hỏi số liệu reach và tần suất tháng trước",
            "Hỏi chi phí phát sinh đợt in ấn POSM",
            "Xin báo cáo hiệu quả KOL đợt 1",
            "Hỏi tiến độ nghiệm thu giai đoạn 1",
        ]
    },
}
REQUEST_DESCRIPTIONS = {
    RequestKind.BRIEF: "{person} gửi brief qua e-mail; cần proposal và báo giá sơ bộ.",
    RequestKind.CHANGE: "{person} yêu cầu chỉnh sửa sau buổi duyệt nội bộ bên khách hàng.",
    RequestKind.INCIDENT: "{person} gọi điện báo sự cố, cần xử lý và báo lại ngay.",
    RequestKind.QUESTION: "{person} hỏi qua Zalo, cần trả lời bằng e-mail kèm số liệu.",
}
HANDOVER_BRIEFS = {
    "Creative": "Chỉnh KV và kịch bản theo yêu cầu “{title}”; giữ tone thương hiệu, gửi hai phương án.",
    "Planning": "Phân tích insight, đề xuất kế hoạch cho “{title}”; ngân sách dự kiến {budget} triệu đồng.",
    "Production house": "Báo giá, lịch quay và danh sách ekip cho “{title}”.",
    "Media": "Đề xuất kênh, booking vị trí và phân bổ ngân sách cho “{title}”.",
    "Digital": "Kiểm tra tracking, landing page và quảng cáo liên quan đến “{title}”; báo lại trong ngày.",
}
TRANSITION_NOTES = {
    RequestStatus.TRIAGED: "Đã xem, xếp lịch xử lý trong tuần.",
    RequestStatus.IN_PROGRESS: "Đang xử lý.",
    RequestStatus.WAITING_CLIENT: "Chờ khách hàng gửi logo, giá bán và nội dung pháp lý.",
    RequestStatus.RESOLVED: "Đã gửi bản cuối, khách hàng xác nhận qua e-mail.",
    RequestStatus.CLOSED: "Khách hàng đã nghiệm thu.",
}


@dataclass(frozen=True)
class Scenario:
    kind: str
    priority: str
    elapsed: float  # share of the SLA time gone by now: 0.75–1 is near the SLA, over 1 is breached
    status: str
    department: str = ""
    handover_status: str = HandoverStatus.OPEN


S, K, PR, RS, HS = Scenario, RequestKind, Priority, RequestStatus, HandoverStatus
SCENARIOS = [
    S(K.BRIEF, PR.NORMAL, 0.35, RS.IN_PROGRESS, "Planning", HS.IN_PROGRESS),
    S(K.CHANGE, PR.HIGH, 0.85, RS.IN_PROGRESS, "Creative"),
    S(K.INCIDENT, PR.URGENT, 3.0, RS.IN_PROGRESS, "Digital", HS.IN_PROGRESS),
    S(K.QUESTION, PR.LOW, 0.2, RS.NEW),
    S(K.BRIEF, PR.HIGH, 0.5, RS.RESOLVED, "Creative", HS.DONE),
    S(K.CHANGE, PR.NORMAL, 2.5, RS.WAITING_CLIENT, "Production house", HS.IN_PROGRESS),
    S(K.QUESTION, PR.NORMAL, 0.9, RS.TRIAGED),
    S(K.BRIEF, PR.LOW, 0.6, RS.CLOSED, "Media", HS.DONE),
    S(K.INCIDENT, PR.HIGH, 4.0, RS.NEW),
    S(K.BRIEF, PR.NORMAL, 0.5, RS.WAITING_CLIENT, "Media"),
    S(K.CHANGE, PR.LOW, 1.6, RS.RESOLVED, "Digital", HS.DONE),
    S(K.BRIEF, PR.URGENT, 0.3, RS.IN_PROGRESS, "Production house", HS.IN_PROGRESS),
    S(K.QUESTION, PR.HIGH, 0.4, RS.CLOSED),
    S(K.BRIEF, PR.NORMAL, 1.4, RS.IN_PROGRESS, "Planning"),
    S(K.CHANGE, PR.NORMAL, 0.8, RS.TRIAGED),
    S(K.INCIDENT, PR.NORMAL, 0.5, RS.RESOLVED, "Digital", HS.DONE),
    S(K.BRIEF, PR.LOW, 0.9, RS.IN_PROGRESS, "Creative", HS.CANCELLED),
]
# Two urgent requests nobody is working on, on top of 75 quiet days: the health score falls below 50.
AT_RISK_SCENARIOS = [
    S(K.INCIDENT, PR.URGENT, 2.5, RS.IN_PROGRESS, "Digital", HS.IN_PROGRESS),
    S(K.CHANGE, PR.URGENT, 1.5, RS.NEW),
]
PITCH_SCENARIO = S(K.BRIEF, PR.NORMAL, 0.8, RS.NEW)
REQUESTS_PER_TIER = {"A": 3, "B": 2, "C": 1}
PATHS = {
    RS.NEW: [],
    RS.TRIAGED: [RS.TRIAGED],
    RS.IN_PROGRESS: [RS.IN_PROGRESS],
    RS.WAITING_CLIENT: [RS.IN_PROGRESS, RS.WAITING_CLIENT],
    RS.RESOLVED: [RS.IN_PROGRESS, RS.RESOLVED],
    RS.CLOSED: [RS.IN_PROGRESS, RS.RESOLVED, RS.CLOSED],
}
DEMO_TAGS = sorted({tag for spec in CLIENTS for tag in spec.tags})


@dataclass
class Person:
    contact: Contact
    spoken: str  # how the AM writes about them: "chị Trang", "anh Dũng"


# --- Entry points ----------------------------------------------------------------------------------------------


def seed_clients(people: dict[str, User]) -> dict[str, int]:
    """Create the demo clients that do not exist yet (keyed by tax code) with everything around them.

    ``people`` maps seed_demo's e-mail local parts ("am.ha", "director", ...) to the demo users. Returns how many
    clients, contacts, partners, partner links, activities, requests and hand-overs were created.
    """
    people = _fresh(people)
    now = timezone.now()
    codes = [spec.tax_code for spec in CLIENTS]
    existing = set(Client.objects.filter(tax_code__in=codes).values_list("tax_code", flat=True))
    partners, new_partners = _seed_partners(people["director"])
    departments = {department.name: department for department in Department.objects.filter(is_active=True)}
    offsets, plans = _next_step_offsets(), _request_plans()
    created = {}
    for spec in CLIENTS:
        if spec.tax_code not in existing:
            context = _Context(spec, people, now, departments)
            created[spec.tax_code] = _seed_client(context, offsets.get(spec.tax_code), plans.get(spec.tax_code, []))
    links = _seed_relationships(partners, created)
    return _counts(list(created.values()), new_partners, links)


def reset_clients() -> int:
    """Delete the demo clients (and all that hangs off them), the demo partners and unused demo tags."""
    _total, per_model = Client.objects.filter(tax_code__in=[spec.tax_code for spec in CLIENTS]).delete()
    Partner.objects.filter(name__in=[spec.name for spec in PARTNERS]).delete()
    Tag.objects.filter(name__in=DEMO_TAGS, clients__isnull=True).delete()
    return per_model.get("clients.Client", 0)


def _fresh(people: dict[str, User]) -> dict[str, User]:
    """The same users re-read: teams are set with update(), so objects from before may not know theirs."""
    users = User.objects.in_bulk([user.pk for user in people.values()])
    return {key: users[user.pk] for key, user in people.items()}


def _counts(clients: list[Client], partners: int, links: int) -> dict[str, int]:
    requests = Request.objects.filter(client__in=clients)
    return {
        "clients": len(clients),
        "contacts": Contact.objects.filter(client__in=clients).count(),
        "partners": partners,
        "partner_links": links,
        "activities": Activity.objects.filter(client__in=clients).count(),
        "requests": requests.count(),
        "handovers": Handover.objects.filter(request__in=requests).count(),
    }


# --- Plans: which client gets which story (static, so a run never depends on what already exists) -------------


def _is_everyday(spec: DemoClient) -> bool:
    """An active account worked on normally: no quiet spell, not a prospect, not lost."""
    return spec.status == ClientStatus.ACTIVE and not spec.idle_days


def _next_step_offsets() -> dict[str, int]:
    offsets, seen = {}, {}
    for spec in CLIENTS:
        if _is_everyday(spec) or spec.status == PROSPECT:
            index = seen[spec.owner] = seen.get(spec.owner, -1) + 1
            offsets[spec.tax_code] = NEXT_STEP_OFFSETS[index % len(NEXT_STEP_OFFSETS)]
    return offsets


def _request_plans() -> dict[str, list[Scenario]]:
    plans, position, pitched = {}, 0, set()
    for spec in CLIENTS:
        if _is_everyday(spec):
            count = REQUESTS_PER_TIER[spec.tier]
            plans[spec.tax_code] = [SCENARIOS[(position + step) % len(SCENARIOS)] for step in range(count)]
            position += count
        elif spec.status == AT_RISK:
            plans[spec.tax_code] = AT_RISK_SCENARIOS
        elif spec.status == PROSPECT and spec.owner not in pitched:
            pitched.add(spec.owner)
            plans[spec.tax_code] = [PITCH_SCENARIO]
    return plans


# --- One client ----------------------------------------------------------------------------------------------


class _Context:
    """What seeding one client needs: its spec, the people, the moment of the run and its own random numbers."""

    def __init__(self, spec: DemoClient, people: dict[str, User], now: datetime, departments: dict):
        self.spec, self.people, self.now, self.departments = spec, people, now, departments
        self.today = timezone.localdate(now)
        self.owner = people[spec.owner]
        self.rng = random.Random(f"{SEED}:{spec.tax_code}")  # noqa: S311 - demo data, not security
        self.campaign_shift = self.rng.randrange(12)


def _seed_client(context: _Context, offset: int | None, plan: list[Scenario]) -> Client:
    spec, rng = context.spec, context.rng
    street = rng.choice(STREETS[spec.city])
    address = f"Tầng {rng.randint(2, 18)}, {rng.randint(1, 250)} {street}, {spec.city}"
    client = client_create(
        actor=context.owner,
        tags=list(spec.tags),
        name=spec.name,
        legal_name=spec.legal_name,
        tax_code=spec.tax_code,
        industry=spec.industry,
        tier=spec.tier,
        status=spec.status,
        billing_currency=spec.currency,
        payment_terms_days=30 if spec.tier == "C" else PAYMENT_TERMS[spec.industry],
        website=f"https://www.{spec.domain}.example",
        phone=_office_phone(spec.city, rng),
        city=spec.city,
        address=address,
        billing_address=address,
        notes=spec.notes,
    )
    contacts = _seed_contacts(client, context)
    _seed_timeline(client, contacts, context, offset)
    for scenario in plan:
        _seed_request(client, contacts, context, scenario)
    return client


def _office_phone(city: str, rng: random.Random) -> str:
    area = AREA_CODES[city]
    if len(area) == 2:
        return f"+84 {area} {rng.randint(3500, 3999)} {rng.randint(1000, 9999)}"
    return f"+84 {area} 3{rng.randint(500, 899)} {rng.randint(100, 999)}"


def _seed_contacts(client: Client, context: _Context) -> list[Person]:
    """2–4 people: a decision maker, a day-to-day contact, someone in accounting, sometimes one more."""
    spec, rng = context.spec, context.rng
    count = 2 if spec.status == PROSPECT else {"A": 4, "B": rng.choice([3, 3, 4]), "C": rng.choice([2, 3])}[spec.tier]
    slots = ["decision", "day_to_day", "billing", "other"][:count]
    people, emails = [], set()
    for slot in slots:
        full_name, given, woman = _vietnamese_name(rng)
        email = _email(full_name, given, spec.domain, emails)
        contact = contact_create(
            client=client,
            actor=context.owner,
            full_name=full_name,
            title=_title(slot, spec.industry, rng),
            email=email,
            phone=f"+84 {rng.choice(MOBILE_PREFIXES)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            preferred_language=Language.EN if rng.random() < (0.6 if spec.english else 0.1) else Language.VI,
            is_decision_maker=slot == "decision",
            is_billing=slot == "billing" or (slot == "day_to_day" and count == 2),
            is_day_to_day=slot == "day_to_day",
            notes=rng.choice(CONTACT_NOTES) if rng.random() < 0.3 else "",
        )
        people.append(Person(contact, f"{'chị' if woman else 'anh'} {given}"))
    return people


def _vietnamese_name(rng: random.Random) -> tuple[str, str, bool]:
    woman = rng.random() < 0.55
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    middle = rng.choice(WOMEN_MIDDLE if woman else MEN_MIDDLE)
    given = rng.choice(WOMEN_GIVEN if woman else MEN_GIVEN)
    return f"{surname} {middle} {given}", given, woman


def _email(full_name: str, given: str, domain: str, taken: set[str]) -> str:
    """The Vietnamese office habit: given name and initials of the others, 'Nguyễn Thị Thu Trang' → trangntt@."""
    others = full_name.split()[:-1]
    local = fold(given) + "".join(fold(part)[0] for part in others)
    candidate, number = local, 1
    while candidate in taken:
        number += 1
        candidate = f"{local}{number}"
    taken.add(candidate)
    return f"{candidate}@{domain}.example"


def _title(slot: str, industry: str, rng: random.Random) -> str:
    titles = {
        "decision": DECISION_TITLES[industry],
        "day_to_day": DAY_TO_DAY_TITLES[industry],
        "billing": BILLING_TITLES,
        "other": OTHER_TITLES,
    }[slot]
    return rng.choice(titles)


# --- Timeline ------------------------------------------------------------------------------------------------

TIMELINE_GAPS = {"A": (6, 14), "B": (9, 20), "C": (14, 30)}  # days between two entries


def _seed_timeline(client: Client, people: list[Person], context: _Context, offset: int | None) -> None:
    """A year of calls, meetings, e-mails, notes and status reports, ending on an open next step."""
    spec, rng = context.spec, context.rng
    if spec.status == PROSPECT:
        days = _days(rng, first=rng.randint(40, 90), last=max(-(offset or 0), 0) + rng.randint(1, 3), gap=(6, 14))
        entries = [PROSPECT_SUBJECTS[min(index, len(PROSPECT_SUBJECTS) - 1)] for index in range(len(days))]
    else:
        first, last = _span(spec, rng, offset)
        days = _days(rng, first=first, last=last, gap=TIMELINE_GAPS[spec.tier])
        entries = [_pick_subject(rng) for _ in days]
    moments = [_at_work(context, day) for day in days]
    steps = _next_steps(moments, context, offset)
    activities = [
        _log(client, people, context, entry, when, step)
        for entry, when, step in zip(entries, moments, steps, strict=True)
    ]
    if len(activities) > 1 and steps[-2]:
        next_step_complete(activity=activities[-2], actor=context.owner)
    if spec.tier == "A" and _is_everyday(spec):
        _seed_business_reviews(client, people, context, first=days[0], last=days[-1])


def _span(spec: DemoClient, rng: random.Random, offset: int | None) -> tuple[int, int]:
    """(days ago of the first activity, days ago of the last) for an account that is not a prospect."""
    if spec.status == CHURNED:
        return 365, rng.randint(195, 215)
    first = 365 - rng.randint(0, 20) if spec.tier == "A" else rng.randint(180, 360)
    if spec.idle_days:
        return first, spec.idle_days + rng.randint(1, 3)  # whole days quiet, whatever the hour
    return first, max(-(offset or 0), 0) + rng.randint(1, 4)


def _days(rng: random.Random, *, first: int, last: int, gap: tuple[int, int]) -> list[int]:
    """Days ago, oldest first, from ``first`` to exactly ``last``, ``gap`` days or so apart."""
    days, day = [], first
    while day > last:
        days.append(day)
        day -= rng.randint(*gap)
    return [*days, last]


def _at_work(context: _Context, days_ago: int) -> datetime:
    """A moment in office hours ``days_ago`` days back; a weekend falls back to the Friday before."""
    day = context.today - timedelta(days=days_ago)
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    minute = context.rng.randint(8 * 60 + 40, 17 * 60 + 15)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=timezone.get_default_timezone())


def _pick_subject(rng: random.Random) -> tuple[str, str]:
    kinds = [ActivityKind.EMAIL, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.STATUS_REPORT, ActivityKind.NOTE]
    kind = rng.choices(kinds, weights=[30, 25, 20, 15, 10])[0]
    return kind, rng.choice(SUBJECTS[kind])


def _next_steps(moments: list[datetime], context: _Context, offset: int | None) -> list[tuple[str, date] | None]:
    """Which entries carry a next step: the last one (still open) and, on a working account, the one before."""
    spec, rng = context.spec, context.rng
    steps: list[tuple[str, date] | None] = [None] * len(moments)
    if spec.status == CHURNED:
        return steps
    pool = PROSPECT_NEXT_STEPS if spec.status == PROSPECT else NEXT_STEPS
    if offset is None:  # a quiet account: the follow-up promised back then is still open
        steps[-1] = (rng.choice(pool), timezone.localdate(moments[-1]) + timedelta(days=5))
        return steps
    steps[-1] = (rng.choice(pool), context.today + timedelta(days=offset))
    if len(moments) > 1:
        steps[-2] = (rng.choice(pool), timezone.localdate(moments[-2]) + timedelta(days=3))
    return steps


def _log(
    client: Client,
    people: list[Person],
    context: _Context,
    entry: tuple[str, str],
    when: datetime,
    step: tuple[str, date] | None,
) -> Activity:
    rng, (kind, subject) = context.rng, entry
    person = None if kind == ActivityKind.NOTE else rng.choice(people)
    words = {
        "person": (person or rng.choice(people)).spoken,
        "campaign": _campaign(context, when),
        "month": when.month,
        "year": when.year,
        "quarter": (when.month - 1) // 3 + 1,
        "week": when.isocalendar().week,
    }
    if kind == ActivityKind.STATUS_REPORT:
        body = REPORT_BODY.format(reach=rng.randint(2, 40), ctr=rng.randint(8, 35) / 10, spent=rng.randint(35, 98))
    elif kind == ActivityKind.NOTE:
        body = ""
    else:
        body = rng.choice(BODIES)
    return activity_log(
        client=client,
        actor=context.owner,
        subject=subject.format(**words)[:200],
        kind=kind,
        body=body,
        occurred_at=when,
        contact=person.contact if person else None,
        next_step=step[0] if step else "",
        next_step_due=step[1] if step else None,
    )


def _campaign(context: _Context, when: datetime) -> str:
    calendar = CAMPAIGNS[context.spec.industry]
    shift = 0 if context.spec.industry in SEASONAL else context.campaign_shift
    return calendar[(when.month - 1 + shift) % len(calendar)]


def _seed_business_reviews(client: Client, people: list[Person], context: _Context, *, first: int, last: int) -> None:
    """The director sits in on a quarterly business review of each key account."""
    decision_maker = people[0]
    for quarter_ago in (300, 210, 120, 30):
        days_ago = quarter_ago + context.rng.randint(-10, 10)
        if not last < days_ago < first:
            continue
        when = _at_work(context, days_ago)
        activity_log(
            client=client,
            actor=context.people["director"],
            subject=f"Họp QBR quý {(when.month - 1) // 3 + 1}/{when.year} với {decision_maker.spoken}",
            kind=ActivityKind.MEETING,
            body="Rà soát KPI quý, kế hoạch ngân sách quý tới và điều kiện gia hạn hợp đồng.",
            occurred_at=when,
            contact=decision_maker.contact,
        )


# --- Requests and hand-overs ---------------------------------------------------------------------------------


def _seed_request(client: Client, people: list[Person], context: _Context, scenario: Scenario) -> None:
    """A request received so that ``scenario.elapsed`` of its SLA has gone by now, then moved to its status."""
    asker = people[1] if len(people) > 1 else people[0]
    description = REQUEST_DESCRIPTIONS[scenario.kind].format(person=asker.spoken)
    request = request_create(
        client=client,
        actor=context.owner,
        title=_request_title(scenario, context),
        kind=scenario.kind,
        priority=scenario.priority,
        description=description[0].upper() + description[1:],
        contact=asker.contact,
        received_at=_received_at(context, scenario),
    )
    path = PATHS[scenario.status]
    if scenario.department and _seed_handover(request, context, scenario):
        path = [step for step in path if step != RequestStatus.IN_PROGRESS]  # the hand-over started the work
    for step in path:
        request = request_transition(request=request, to=step, actor=context.owner, note=TRANSITION_NOTES[step])


def _request_title(scenario: Scenario, context: _Context) -> str:
    rng, spec = context.rng, context.spec
    if scenario.kind != RequestKind.BRIEF:
        titles = REQUEST_TITLES[scenario.kind]
        return rng.choice(
            titles.get(scenario.department) or sorted(title for group in titles.values() for title in group)
        )
    tet = context.today.year + (1 if context.today.month >= 3 else 0)
    title = rng.choice(BRIEF_TITLES[spec.industry]).format(tet=tet)
    return f"Pitch: {title}" if spec.status == PROSPECT else title


def _received_at(context: _Context, scenario: Scenario) -> datetime:
    """The latest receipt for which ``scenario.elapsed`` of the SLA time has gone by now (business hours count)."""
    minutes = allowed_minutes(scenario.priority) * scenario.elapsed
    early, late = context.now - timedelta(days=60), context.now
    for _ in range(30):  # bisection to a few milliseconds; add_business_minutes only grows with its start
        middle = early + (late - early) / 2
        if add_business_minutes(middle, minutes) <= context.now:
            early = middle
        else:
            late = middle
    # A few minutes earlier, so receipts do not all sit on the stroke of opening time.
    return early.replace(second=0, microsecond=0) - timedelta(minutes=context.rng.randint(0, 25))


def _seed_handover(request: Request, context: _Context, scenario: Scenario) -> Handover | None:
    departments = context.departments
    department = departments.get(scenario.department) or next(iter(departments.values()), None)
    if department is None:  # every department switched off: nothing to hand over to
        return None
    rng, assignee = context.rng, _assignee(department, context)
    late = scenario.elapsed > 1 and scenario.status not in (RequestStatus.RESOLVED, RequestStatus.CLOSED)
    due = context.today + timedelta(days=-rng.randint(1, 3) if late else rng.randint(2, 10))
    brief = HANDOVER_BRIEFS.get(department.name, "“{title}”").format(
        title=request.title, budget=50 * rng.randint(3, 40)
    )
    handover = handover_create(
        request=request, department=department, assignee=assignee, brief=brief, due_date=due, actor=context.owner
    )
    if scenario.handover_status != HandoverStatus.OPEN:
        handover = handover_set_status(handover=handover, to=scenario.handover_status, actor=assignee)
    return handover


def _assignee(department: Department, context: _Context) -> User:
    """The department's lead when it has one; otherwise a colleague from the owner's team.

    The demo agency has no department staff yet, so teammates stand in for them.
    """
    if department.lead_id and department.lead.is_active:
        return department.lead
    colleagues = sorted(
        (
            user
            for user in context.people.values()
            if user.role == Role.ACCOUNT_MANAGER and user.team_id == context.owner.team_id and user != context.owner
        ),
        key=lambda user: user.email,
    )
    return context.rng.choice(colleagues) if colleagues else context.owner


# --- Partners ------------------------------------------------------------------------------------------------

# What a year of a partner's work on one account is worth, in millions of đồng: (from, to).
LINK_VALUES = {
    PartnerKind.SPONSOR: (100, 800),
    PartnerKind.CONSULTANT: (80, 600),
    PartnerKind.SUPPLIER: (50, 900),
    PartnerKind.PRODUCTION_HOUSE: (300, 2500),
    PartnerKind.MEDIA_VENDOR: (500, 4000),
    PartnerKind.OTHER: (20, 200),
}
RELATIONSHIP_NOTES = [
    "",
    "Hợp đồng khung theo năm; thanh toán 50% trước, 50% sau nghiệm thu.",
    "Khách hàng chỉ định, agency điều phối.",
    "Đánh giá lại chất lượng sau mỗi đợt.",
]


def _seed_partners(director: User) -> tuple[dict[str, Partner], int]:
    """The demo partners by name, creating the missing ones; and how many were created."""
    partners = {partner.name: partner for partner in Partner.objects.filter(name__in=[p.name for p in PARTNERS])}
    created = 0
    for spec in PARTNERS:
        if spec.name in partners:
            continue
        partners[spec.name] = partner_create(
            actor=director,
            name=spec.name,
            kind=spec.kind,
            tax_code=spec.tax_code,
            website=f"https://www.{spec.domain}.example",
            email=f"lienhe@{spec.domain}.example",
            phone=spec.phone,
            notes=spec.notes,
        )
        created += 1
    return partners, created


def _seed_relationships(partners: dict[str, Partner], created: dict[str, Client]) -> int:
    """Each partner works on two or three accounts of the industries it knows; only new clients get links."""
    today, links = timezone.localdate(), 0
    for spec in PARTNERS:
        rng = random.Random(f"{SEED}:{spec.name}")  # noqa: S311 - demo data, not security
        candidates = [client for client in CLIENTS if client.industry in spec.industries and client.status != PROSPECT]
        for client_spec in rng.sample(candidates, k=min(len(candidates), rng.randint(2, 3))):
            fields = _link_fields(spec, client_spec, rng, today)
            client = created.get(client_spec.tax_code)
            if client is not None:
                partner_relationship_create(client=client, partner=partners[spec.name], actor=client.owner, **fields)
                links += 1
    return links


def _link_fields(spec: DemoPartner, client_spec: DemoClient, rng: random.Random, today: date) -> dict:
    statuses = [RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED, RelationshipStatus.ENDED]
    status = rng.choices(statuses, weights=[8, 1, 1])[0]
    indirect = spec.kind in (PartnerKind.SPONSOR, PartnerKind.OTHER) or rng.random() < 0.2
    return {
        "link": RelationshipLink.INDIRECT if indirect else RelationshipLink.DIRECT,
        "role": rng.choice(spec.roles),
        "since": today - timedelta(days=rng.randint(60, 900)),
        "status": RelationshipStatus.ENDED if client_spec.status == CHURNED else status,
        "value": Decimal(rng.randrange(*LINK_VALUES[spec.kind], 10) * 1_000_000),
        "currency": Currency.VND,
        "notes": rng.choice(RELATIONSHIP_NOTES),
    }
