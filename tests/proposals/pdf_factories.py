"""Proposals as an agency writes them, built through the services (so numbers, totals and events are real)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from clients.models import Client, Contact
from proposals.models import Proposal
from proposals.services import proposal_create
from tests.factories import ClientFactory, ContactFactory, DepartmentFactory

CLIENT_NAME = "Công ty TNHH Thương mại Đông Á"
FIRST_LINE = "Thiết kế bộ nhận diện thương hiệu"

# (description, department, quantity, unit, unit price in VND, discount %)
SERVICES = [
    (FIRST_LINE, "Sáng tạo", "1", "package", "85000000", "0"),
    ("Nghiên cứu thị trường và chân dung khách hàng mục tiêu", "Chiến lược", "1", "package", "60000000", "5"),
    ("Sản xuất TVC 30 giây (kịch bản, quay, hậu kỳ)", "Sản xuất", "1", "video", "320000000", "10"),
    ("Quản lý fanpage và sáng tạo nội dung hằng tháng", "Kỹ thuật số", "3", "month", "45000000", "0"),
    ("Chụp ảnh sản phẩm cho bao bì và mạng xã hội", "Sản xuất", "40", "item", "1500000", "0"),
    ("Tổ chức sự kiện ra mắt sản phẩm tại Hà Nội", "Sự kiện", "1", "event", "450000000", "8"),
    ("Mua quảng cáo trên Facebook và YouTube (phí quản lý)", "Truyền thông", "3", "month", "25000000", "0"),
    ("Viết bài PR trên báo điện tử", "Quan hệ công chúng", "6", "post", "12000000", "0"),
    ("Tư vấn chiến lược thương hiệu (giờ chuyên gia)", "Chiến lược", "24", "hour", "2500000", "0"),
    ("Thiết kế ấn phẩm POSM cho hệ thống siêu thị", "Sáng tạo", "12", "item", "3200000", "5"),
]
ENGLISH_SERVICES = [
    ("Brand identity design", "Creative", "1", "package", "85000000", "0"),
    ("Market research and target audience personas", "Strategy", "1", "package", "60000000", "5"),
    ("30-second TVC production (script, shoot, post-production)", "Production", "1", "video", "320000000", "10"),
    ("Monthly social media management and content", "Digital", "3", "month", "45000000", "0"),
]

OBJECTIVES = {
    "vi": "Tăng mức độ nhận biết thương hiệu Đông Á lên 40 % tại Hà Nội và TP. Hồ Chí Minh trong 6 tháng.\n"
    "Ra mắt dòng sản phẩm mới trước Tết Nguyên đán với thông điệp thống nhất trên mọi kênh.",
    "en": "Raise awareness of the Đông Á brand to 40 % in Hanoi and Ho Chi Minh City within six months.\n"
    "Launch the new product line before Tết with one message across every channel.",
}
SCOPE = {
    "vi": "Giai đoạn 1: nghiên cứu, chiến lược và nhận diện thương hiệu.\n"
    "Giai đoạn 2: sản xuất TVC, hình ảnh sản phẩm và ấn phẩm tại điểm bán.\n"
    "Giai đoạn 3: triển khai truyền thông số, PR và sự kiện ra mắt.",
    "en": "Phase 1: research, strategy and brand identity.\n"
    "Phase 2: TVC production, product photography and point-of-sale materials.\n"
    "Phase 3: digital media, PR and the launch event.",
}
TERMS = {
    "vi": "Thanh toán 50 % khi ký hợp đồng, 50 % khi nghiệm thu từng giai đoạn, trong vòng 15 ngày kể từ ngày "
    "nhận hóa đơn.\nChi phí mua quảng cáo được thanh toán theo thực tế, không bao gồm trong báo giá này.",
    "en": "50 % on signature and 50 % on acceptance of each phase, within 15 days of the invoice.\n"
    "Media spend is billed at cost and is not included in this proposal.",
}


def client_dong_a(owner: User) -> Client:
    """The client of these proposals (one per test: its tax code is unique)."""
    existing = Client.objects.filter(tax_code="0101234567", owner=owner).first()
    return existing or ClientFactory(
        owner=owner,
        name=CLIENT_NAME,
        legal_name="Công ty Trách nhiệm Hữu hạn Thương mại Đông Á",
        tax_code="0101234567",
        address="Tầng 12, Tòa nhà Lotte, 54 Liễu Giai, Ba Đình, Hà Nội",
    )


def recipient_of(client: Client, *, language: str = "vi", email: str = "thu.ha@donga.test") -> Contact:
    existing = Contact.objects.filter(client=client, email=email).first()
    return existing or ContactFactory(
        client=client, full_name="Nguyễn Thu Hà", title="Giám đốc Marketing", email=email, preferred_language=language
    )


def lines(count: int, *, language: str = "vi") -> list[dict]:
    """``count`` lines cycling through the agency's services (numbered after the first round, so each is its own)."""
    services = SERVICES if language == "vi" else ENGLISH_SERVICES
    result = []
    for index in range(count):
        description, department, quantity, unit, price, discount = services[index % len(services)]
        if index >= len(services):
            description = f"{description} ({index // len(services) + 1})"
        result.append(
            {
                "description": description,
                "department": DepartmentFactory(name=department),
                "quantity": Decimal(quantity),
                "unit": unit,
                "unit_price": Decimal(price),
                "discount_percent": Decimal(discount),
            }
        )
    return result


def proposal_for(owner: User, *, line_count: int = 10, language: str = "vi", client: Client | None = None, **header):
    """A VND proposal for Đông Á with ``line_count`` lines, objectives, scope and terms in ``language``."""
    client = client or client_dong_a(owner)
    header.setdefault("recipient", recipient_of(client, language=language))
    header.setdefault("title", "Chiến dịch ra mắt sản phẩm Tết 2027" if language == "vi" else "Tết 2027 product launch")
    header.setdefault("valid_until", timezone.localdate() + timedelta(days=30))
    return proposal_create(
        client=client,
        actor=owner,
        language=language,
        objectives=OBJECTIVES[language],
        scope=SCOPE[language],
        terms=TERMS[language],
        lines=lines(line_count, language=language),
        **header,
    )


def reload(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)
