"""Who is calling: `Authorization: Bearer <api_key>` to a merchant, promoter or staff member."""

import hmac
from dataclasses import dataclass

from gudang_common.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Caller:
    role: str  # merchant | promoter | staff (packer, supervisor) | finance | admin
    id: str


def role_of(key_doc):
    """A finance staff key is its own role: floor work and money never share a key."""
    if key_doc["role"] == "staff" and key_doc.get("staff_role") == "finance":
        return "finance"
    return key_doc["role"]


def bearer(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "missing API key", {"Authorization": ["Send 'Authorization: Bearer <api_key>'."]}
        )
    return token.strip()


def authenticate(request, repo, admin_key, *roles):
    """The caller, if it holds one of `roles`; 401 for no or unknown key, 403 for another role."""
    token = bearer(request)
    if admin_key and hmac.compare_digest(token, admin_key):
        caller = Caller("admin", "admin")
    else:
        found = repo.principal(token)
        if found is None:
            raise Unauthorized("unknown API key", {"Authorization": ["Unknown API key."]})
        caller = Caller(role_of(found), found["principal_id"])
    if caller.role not in roles:
        raise Forbidden(
            f"this needs a {' or '.join(roles)} key",
            {"Authorization": [f"A {caller.role} key cannot do this."]},
        )
    return caller
