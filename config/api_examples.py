"""An example for every JSON body of the API schema (a drf-spectacular postprocessing hook, after core.api's).

Responses: answers of the API on the demo agency (``manage.py seed_demo``), kept in api_examples.json, one per
component, lists cut to their first row; a component only seen inside another (a proposal's line) takes the value
found there. Requests: the fields of the matching response that the request takes (``ClientRequest`` from
``Client``), and for the others values made from the property's name, format and limits (a note reads like a
note, an amount is a VND decimal string). tests/test_api_schema.py checks that every body has one and that each
is valid against its own schema, so a changed serializer cannot leave a stale example behind.
"""

import copy
import json
import re
from pathlib import Path

RESPONSES = json.loads((Path(__file__).with_name("api_examples.json")).read_text(encoding="utf-8"))
REF = "#/components/schemas/"

# Realistic words for a property, by name; the first name that a property's name ends with wins.
WORDS = {
    "event_type": "invoice.paid",
    "events": "contract.signed",
    "last_error": "HTTP 503 from the receiver; retrying.",
    "note": "Khách hàng xác nhận qua e-mail ngày 26/11, kế toán sẽ chuyển khoản trong tuần.",
    "reason": "Khách hàng đã giải thể; luật sư xác nhận không thu hồi được.",
    "brief": "Key visual cho chiến dịch Tết: ba hướng sáng tạo, duyệt trước 05/12.",
    "body": "Họp kick-off với phòng marketing: thống nhất KPI và lịch đăng bài tháng 12.",
    "subject": "Họp kick-off chiến dịch Tết 2027",
    "next_step": "Gửi báo giá chỉnh sửa",
    "title": "Chiến dịch Tết 2027 — Sữa Việt Xanh",
    "full_name": "Trần Thị Mai",
    "legal_name": "Công ty Cổ phần Sữa Việt Xanh",
    "name": "Sữa Việt Xanh",
    "description": "Phí quản lý mạng xã hội tháng 11/2026",
    "objectives": "Tăng nhận biết thương hiệu 20 % trước Tết.",
    "scope": "Key visual, TVC 30 giây, social always-on 3 tháng.",
    "terms": "Thanh toán 50 % khi ký, 50 % khi nghiệm thu.",
    "role": "Đồng tài trợ livestream",
    "unit": "ngày",
    "reference": "UNC 2026-11-0412",
    "service": "Thiết kế key visual",
    "email": "mai.tran@suavietxanh.example",
    "phone": "+84 90 312 4455",
    "website": "https://suavietxanh.example",
    "url": "https://hooks.agency.example/accord",
    "tax_code": "0101234567",
    "address": "12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
    "city": "Hà Nội",
    "tag": "tết-2027",
    "tags": "tết-2027",
    "period": "2026-Q4",
    "status": "active",
}
AMOUNTS = (("percent", "10"), ("discount", "10"), ("rate", "10"), ("probability", "50"), ("quantity", "2"))


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].removeprefix(REF)]
    for key in ("allOf", "anyOf", "oneOf"):
        if schema.get(key):
            return _resolve(schema[key][0], components)
    return schema


def _word(name: str) -> str:
    for word, value in WORDS.items():
        if name.endswith(word):
            return value
    return "Khách hàng chiến lược, cam kết cả năm."


def _decimal(name: str, schema: dict) -> str:
    places = re.search(r"\\\.\\d\{0,(\d+)\}", schema.get("pattern", ""))
    number = next((value for word, value in AMOUNTS if word in name), "15000000")
    return f"{number}.{'0' * int(places.group(1))}" if places and int(places.group(1)) else number


def _string(name: str, schema: dict) -> str:
    kind = schema.get("format")
    if kind == "date":
        return "2026-12-15"
    if kind == "date-time":
        return "2026-11-27T09:30:00+07:00"
    if kind == "decimal":
        return _decimal(name, schema)
    if kind == "email":
        return WORDS["email"]
    if kind == "uri":
        return WORDS["website"] if name.endswith("website") else WORDS["url"]
    if kind == "uuid":
        return "3f2b6c1e-8a4d-4c2b-9e7f-1a2b3c4d5e6f"
    text = schema.get("example") or _word(name)
    return text[: schema.get("maxLength", len(text))]


def _integer(name: str, schema: dict) -> int:
    """1 for a version or revision, 30 for days, otherwise 12 (an id), within the schema's limits."""
    value = 1 if name in ("version", "revision") else 30 if name.endswith("days") else 12
    return max(schema.get("minimum", value), min(value, schema.get("maximum", value)))


def make_example(schema: dict, components: dict, name: str = "") -> object:
    """A value valid for ``schema`` (after resolving references), with realistic words and amounts."""
    schema = _resolve(schema, components)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        values = [value for value in schema["enum"] if value not in (None, "")]
        return "VND" if "VND" in values else values[0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            key: make_example(value, components, key)
            for key, value in properties.items()
            if key in required or not value.get("readOnly")
        }
    if kind == "array":
        return [make_example(schema.get("items", {}), components, name)]
    if kind == "integer":
        return _integer(name, schema)
    if kind == "number":
        return 10
    if kind == "boolean":
        return True
    return _string(name, schema)


def _gather_nested(value, schema: dict, components: dict, found: dict) -> None:
    """Record the value of every component met inside a response example (a proposal's line, a contract's
    phase), for components the API never answers on their own."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF)
        found.setdefault(name, value)
        schema = components[name]
    for key in ("allOf", "anyOf", "oneOf"):
        for option in schema.get(key, [])[:1]:
            _gather_nested(value, option, components, found)
    if isinstance(value, dict):
        for key, item in value.items():
            if key in schema.get("properties", {}):
                _gather_nested(item, schema["properties"][key], components, found)
    elif isinstance(value, list) and value and "items" in schema:
        _gather_nested(value[0], schema["items"], components, found)


def _known_examples(components: dict) -> dict:
    found = {}
    for name, value in RESPONSES.items():
        if name in components:
            _gather_nested(value, {"$ref": REF + name}, components, found)
    return found


def _request_example(name: str, components: dict, known: dict) -> object:
    """A request body: the matching response's writable fields where one is known, made up otherwise."""
    schema = components[name]
    base = name.removeprefix("Patched").removesuffix("Request")
    answer = known.get(base)
    made = make_example(schema, components)
    if not isinstance(answer, dict) or not isinstance(made, dict):
        return made
    properties = schema.get("properties", {})
    return {
        key: answer.get(key, value) if _fits(answer.get(key), properties[key], components) else value
        for key, value in made.items()
    }


def _fits(value, schema: dict, components: dict) -> bool:
    """Whether a response's value can stand for a request's property (a scalar of the same kind)."""
    schema = _resolve(schema, components)
    if value is None or isinstance(value, dict | list):
        return False
    expected = {"string": str, "integer": int, "boolean": bool, "number": int | float}.get(schema.get("type"))
    if expected is None or not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "pattern" in schema and not re.search(schema["pattern"], str(value)):
        return False
    return len(str(value)) <= schema.get("maxLength", len(str(value)))


def _body_example(schema: dict, components: dict, known: dict, *, request: bool) -> object:
    name = schema.get("$ref", "").removeprefix(REF)
    if not name:
        return make_example(schema, components)
    if request:
        return _request_example(name, components, known)
    if name.startswith("Paginated") and name.endswith("List"):
        item = name.removeprefix("Paginated").removesuffix("List")
        row = known.get(item, make_example({"$ref": REF + item}, components))
        return {"count": 1, "next": None, "previous": None, "results": [row]}
    return copy.deepcopy(known[name]) if name in known else make_example(schema, components)


def attach_examples(result, generator, request, public):
    """Give each JSON request and 2xx response body without an example one, under "Example"."""
    components = result.get("components", {}).get("schemas", {})
    known = _known_examples(components)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            bodies = [(operation.get("requestBody", {}).get("content", {}), True)]
            bodies += [
                (response.get("content", {}), False)
                for status, response in operation.get("responses", {}).items()
                if str(status).startswith("2")
            ]
            for content, is_request in bodies:
                media = content.get("application/json")
                if media is None or "schema" not in media or media.get("examples") or "example" in media:
                    continue
                value = _body_example(media["schema"], components, known, request=is_request)
                media["examples"] = {"Example": {"value": value}}
    return result
