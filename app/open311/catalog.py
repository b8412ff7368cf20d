"""What the Open311 endpoint offers: the discovery document, the service list and definitions.

One Open311 service is one incident category: its code is the ``service_code``, its
department the ``group``.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Department, IncidentCategory

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's behaviour last changed: the first part of discovery's changeset.
CHANGESET = "2026-12-06T00:00:00Z"
DEFAULT_CONTACT = (
    "网格化服务管理中心：请联系系统管理员。Grid management centre: ask the administrator."
)
KEY_SERVICE = (
    "提交服务请求需要 api_key：由系统管理员执行 "
    "`flask --app app wangge issue-open311-key NAME` 签发（只显示一次）。"
    " Reading needs no key; posting needs an api_key issued by the administrator."
)

# Attributes every service accepts, beyond GeoReport's standard fields.
GUIDE_CODE = "report_guide"
ADDRESS_DETAIL = "address_detail"
ATTRIBUTES = (
    {
        "variable": False,
        "code": GUIDE_CODE,
        "datatype": "text",
        "required": False,
        "datatype_description": None,
        "order": 1,
        "description": (
            "请在 description 中写明问题的现状和具体位置；位置用 lat/long 给出"
            "（坐标系用 crs 指定：wgs84、cgcs2000、gcj02、bd09，默认 wgs84），"
            "或用 address_id（门牌地址库编号）、address_string（门牌地址）代替。"
            "不在任何网格内的位置不予受理。media_url 不会被下载，请勿只靠照片说明问题。"
            " Describe the problem and where it is; give lat/long (crs names the coordinate "
            "system, default wgs84), or instead address_id (the address register's id) or "
            "address_string; points outside every grid are refused; media_url is not fetched."
        ),
    },
    {
        "variable": True,
        "code": ADDRESS_DETAIL,
        "datatype": "string",
        "required": False,
        "datatype_description": "楼栋、单元、门牌号，如“3栋2单元101” (building / unit / room)",
        "order": 2,
        "description": "门牌详址，附加在 address_string 之后保存。Appended to the address.",
    },
)
VARIABLE_ATTRIBUTES = frozenset(a["code"] for a in ATTRIBUTES if a["variable"])


def changeset(session: Session) -> str:
    """Discovery's changeset: when the endpoint last changed, then a fingerprint of the
    services (``2026-12-06T00:00:00Z~3f2a9c01d4b7``), so that it changes whenever a category,
    its name, deadline or department does and a client knows to fetch services again.

    Categories keep no change time of their own; the fingerprint is what can be derived.
    """
    listed = json.dumps(services(session), ensure_ascii=False, sort_keys=True)
    return f"{CHANGESET}~{hashlib.sha256(listed.encode()).hexdigest()[:12]}"


def discovery(session: Session, base_url: str, contact: str | None = None) -> dict:
    """The discovery document for the endpoint at ``base_url`` (this server's /open311/v2)."""
    current = changeset(session)
    return {
        "changeset": current,
        "contact": contact or DEFAULT_CONTACT,
        "key_service": KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": current,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _categories(session: Session, code: str | None = None):
    query = (
        select(IncidentCategory, Department.name.label("department"))
        .outerjoin(Department, Department.id == IncidentCategory.department_id)
        .order_by(IncidentCategory.code)
    )
    if code is not None:
        query = query.where(IncidentCategory.code == code)
    return session.execute(query).all()


def _service(category: IncidentCategory, department: str | None) -> dict:
    handler = department or "网格员"
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": (
            f"{category.name}：由{handler}处理，{category.deadline_days} 个工作日内办结。"
        ),
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(dict.fromkeys([category.name, category.code])),
        "group": department,
    }


def services(session: Session) -> list[dict]:
    """Every incident category as an Open311 service, ordered by code."""
    return [_service(row.IncidentCategory, row.department) for row in _categories(session)]


def service_definition(session: Session, code: str) -> dict:
    """The attributes of one service; 404 when no category has this code."""
    if not _categories(session, code):
        raise NotFound(f"No service with service_code {code!r}.", details={"field": "service_code"})
    return {"service_code": code, "attributes": [dict(a) for a in ATTRIBUTES]}


def known_service_codes(session: Session) -> list[str]:
    return list(session.scalars(select(IncidentCategory.code).order_by(IncidentCategory.code)))
