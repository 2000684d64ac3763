"""Joining central from the first-run screen: what a person typed, checked and written the
way central issued it before anything is sent, and the sentence that says what the terminal
now is. The exchange itself (``POST /v1/enrollments``, the token file) is the ``Enroller``
port, ``sync.enrollment`` behind ``kiosk.bootstrap``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kiosk.ports import Refused
from kiosk.records import Enrolled

# The screen's fields are bounded to these; the core checks them again.
MAX_URL_LENGTH = 200
MAX_CODE_LENGTH = 20  # central's own limit on the code it accepts
# Central's codes (central/enrollment.py): Crockford's base 32, 10 characters, XXXXX-XXXXX.
CODE_ALPHABET = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
CODE_LENGTH = 10
EXAMPLE_CODE = "7KQ2M-9XH4D"
EXAMPLE_URL = "https://central.isseg.gob.mx"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Dashes a keyboard or a copied message may carry instead of "-".
_DASHES = str.maketrans("", "", "-‐‑‒–—")
# Read over the phone, O is zero and I or L is one: Crockford has no such letters.
_LOOKALIKES = str.maketrans("OIL", "011")


def code_characters(typed: str) -> str:
    """A code as typed, down to its characters: no spaces or dashes, upper case, the letters
    Crockford reads as digits taken as those digits (central hashes exactly this)."""
    return "".join(typed.split()).translate(_DASHES).upper().translate(_LOOKALIKES)


def normalize_code(typed: str) -> str:
    """``" 7kq2m 9xh4d"``, ``"7KQ2M9XH4D"`` → ``"7KQ2M-9XH4D"``; a code that cannot be one
    of central's is refused here, without spending one of central's few attempts a minute."""
    text = code_characters(typed)
    if not text:
        raise Refused(
            "FALTA_CODIGO",
            f"Escriba el código de alta que le dio {SYSTEMS} (como {EXAMPLE_CODE}).",
        )
    if len(text) != CODE_LENGTH or not set(text) <= CODE_ALPHABET:
        raise Refused(
            "CODIGO_MAL_ESCRITO",
            f"El código de alta son 10 letras y números, como {EXAMPLE_CODE}. Revíselo.",
        )
    return f"{text[:5]}-{text[5:]}"


def normalize_url(typed: str) -> str:
    """Central's address as typed, with ``https://`` when no scheme was written; plain
    ``http://`` only to this very machine (the demo), never across the network."""
    text = typed.strip()
    if not text:
        raise Refused(
            "FALTA_CENTRAL", f"Escriba la dirección de central, por ejemplo {EXAMPLE_URL}."
        )
    invalid = Refused(
        "CENTRAL_INVALIDA",
        f"La dirección de central no es válida. Escríbala como {EXAMPLE_URL}.",
    )
    if len(text) > MAX_URL_LENGTH or any(c.isspace() for c in text):
        raise invalid
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise invalid from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        raise invalid
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise Refused(
            "CENTRAL_SIN_CIFRAR",
            "La dirección de central debe empezar con https:// (conexión cifrada); "
            "http:// solo se admite en este mismo equipo.",
        )
    return text.rstrip("/")


def checked(central_url: str, code: str) -> tuple[str, str]:
    """Both fields as they will be sent, or the one refusal a person should fix first."""
    if not central_url.strip() and not "".join(code.split()):
        raise Refused(
            "FALTAN_DATOS",
            f"Escriba la dirección de central y el código de alta que le dio {SYSTEMS}.",
        )
    return normalize_url(central_url), normalize_code(code)


KIND_WORDS = {"caja": "caja", "kiosko": "kiosko de autoservicio"}
SYSTEMS = "el área de sistemas del ISSEG"


def described(enrolled: Enrolled) -> str:
    """What the terminal now is, in one sentence for the person who enrolled it."""
    store = f"la farmacia {enrolled.store_id}"
    if enrolled.store_name and enrolled.store_name != enrolled.store_id:
        store += f" «{enrolled.store_name}»"
    return f"Esta terminal es {enrolled.name} de {store}."


def details(enrolled: Enrolled) -> str:
    kind = KIND_WORDS.get(enrolled.kind, enrolled.kind)
    return (
        f"Tipo: {kind} · identificador en central: {enrolled.terminal_id} · "
        f"central: {enrolled.central_url}"
    )


# Refusals that the address fixes (what was typed, or that nothing answered there, or not
# with a trusted certificate, or not as central): the rest are about the code.
_ADDRESS_REFUSALS = frozenset(
    {
        "FALTA_CENTRAL",
        "CENTRAL_INVALIDA",
        "CENTRAL_SIN_CIFRAR",
        "CENTRAL_INALCANZABLE",
        "CERTIFICADO_NO_CONFIABLE",
        "NO_ES_CENTRAL",
        "RESPUESTA_INESPERADA",
        "CENTRAL_HABLA_HTTP",
    }
)


def address_at_fault(refusal_code: str) -> bool:
    """Whether a person should fix central's address (rather than the code) after this."""
    return refusal_code in _ADDRESS_REFUSALS
