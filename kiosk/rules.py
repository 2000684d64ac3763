"""Acceptance rules for a referencia at a pharmacy (SPEC 2.1) and the policy behind them.

``check_payment`` applies the rules in the order the institute lists them and stops at the
first refusal, so the cashier always sees the most basic reason first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from kiosk import money
from kiosk.references import (
    PAGADA,
    VIGENTE,
    InvalidReference,
    ReferenceRecord,
)
from kiosk.references import parse as parse_reference

MEXICO_CITY = "America/Mexico_City"


@lru_cache(maxsize=64)
def _official_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("MX", years=year).keys())


@dataclass(frozen=True, slots=True)
class Policy:
    """Window, business days and cash cap. Central pushes it; these are the defaults."""

    window_start: time = time(7, 0)
    window_end: time = time(22, 0)
    business_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    official_holidays: bool = True
    non_working_days: frozenset[date] = frozenset()  # the institute's own, from central
    cash_cap: Decimal = Decimal("30000.00")
    timezone: str = MEXICO_CITY
    max_clock_skew: timedelta = timedelta(minutes=5)
    max_daily_slips: int = 5  # fichas one affiliate may have issued per day, all channels
    # A payment reaching central later than this after the time it claims is held as a
    # case, not applied (SPEC 2.5).
    offline_window: timedelta = timedelta(hours=72)
    # Failed affiliate logins one kiosk may make per minute before central answers 429.
    kiosk_login_failures_per_minute: int = 10
    version: int = 0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, now: datetime) -> datetime:
        """``now`` in the policy's zone. Naive datetimes are a programming error."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("se requiere una fecha y hora con zona horaria (aware)")
        return now.astimezone(self.tz)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.business_weekdays:
            return False
        if self.official_holidays and day in _official_holidays(day.year):
            return False
        return day not in self.non_working_days

    def in_window(self, now: datetime) -> bool:
        t = self.local(now).time()
        return self.window_start <= t < self.window_end

    def is_open(self, now: datetime) -> bool:
        return self.is_business_day(self.local(now).date()) and self.in_window(now)

    def closes_in(self, now: datetime) -> timedelta | None:
        """Time left before today's window closes, or None when it is closed now."""
        if not self.is_open(now):
            return None
        local = self.local(now)
        closing = datetime.combine(local.date(), self.window_end, tzinfo=self.tz)
        return closing - local

    def next_business_day(self, day: date) -> date:
        nxt = day + timedelta(days=1)
        while not self.is_business_day(nxt):
            nxt += timedelta(days=1)
        return nxt

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape central sends in ``GET /v1/policy``."""
        return {
            "window_start": self.window_start.strftime("%H:%M"),
            "window_end": self.window_end.strftime("%H:%M"),
            "business_weekdays": sorted(self.business_weekdays),
            "official_holidays": self.official_holidays,
            "non_working_days": sorted(d.isoformat() for d in self.non_working_days),
            "cash_cap": str(self.cash_cap),
            "timezone": self.timezone,
            "max_clock_skew_seconds": int(self.max_clock_skew.total_seconds()),
            "max_daily_slips": self.max_daily_slips,
            "offline_window_seconds": int(self.offline_window.total_seconds()),
            "kiosk_login_failures_per_minute": self.kiosk_login_failures_per_minute,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Load what central sent; missing keys keep the defaults, bad values raise."""
        p = cls()
        changes: dict[str, Any] = {}
        if "window_start" in data:
            changes["window_start"] = time.fromisoformat(str(data["window_start"]))
        if "window_end" in data:
            changes["window_end"] = time.fromisoformat(str(data["window_end"]))
        if "business_weekdays" in data:
            days = frozenset(int(d) for d in data["business_weekdays"])
            if not days <= set(range(7)):
                raise ValueError("días hábiles fuera de rango (0=lunes … 6=domingo)")
            changes["business_weekdays"] = days
        if "official_holidays" in data:
            changes["official_holidays"] = bool(data["official_holidays"])
        if "non_working_days" in data:
            changes["non_working_days"] = frozenset(
                date.fromisoformat(str(d)) for d in data["non_working_days"]
            )
        if "cash_cap" in data:
            cap = data["cash_cap"]
            changes["cash_cap"] = money.to_decimal(cap if isinstance(cap, int) else str(cap))
        if "timezone" in data:
            ZoneInfo(str(data["timezone"]))  # raises on an unknown zone
            changes["timezone"] = str(data["timezone"])
        if "max_clock_skew_seconds" in data:
            changes["max_clock_skew"] = timedelta(seconds=int(data["max_clock_skew_seconds"]))
        if "max_daily_slips" in data:
            slips = int(data["max_daily_slips"])
            if not 1 <= slips <= 100:
                raise ValueError("fichas por afiliado al día: de 1 a 100")
            changes["max_daily_slips"] = slips
        if "offline_window_seconds" in data:
            changes["offline_window"] = timedelta(seconds=int(data["offline_window_seconds"]))
        if "kiosk_login_failures_per_minute" in data:
            changes["kiosk_login_failures_per_minute"] = int(
                data["kiosk_login_failures_per_minute"]
            )
        if "version" in data:
            changes["version"] = int(data["version"])
        policy = replace(p, **changes)
        if policy.window_start >= policy.window_end:
            raise ValueError("la hora de apertura debe ser anterior a la de cierre")
        return policy


# A ficha issued this close to the window's end gets a warning with the minutes left.
CLOSING_SOON = timedelta(minutes=30)


def _hour(t: time) -> str:
    """``07:00`` → ``7:00``, as a clock reads aloud."""
    return f"{t.hour}:{t.minute:02d}"


@dataclass(frozen=True, slots=True)
class PayableToday:
    """Whether a ficha issued now can still be paid today, and what to tell the affiliate."""

    payable: bool
    message: str | None


def payable_today(now: datetime, policy: Policy) -> PayableToday:
    """The one "can it still be paid today" rule: the kiosk's summary and central's slip.

    A ficha is valid only on its issue day, within the window, on a business day. Minutes
    left are rounded up (14:01 left reads "15 minutos"), once, here.
    """
    local = policy.local(now)
    if not policy.is_business_day(local.date()):
        return PayableToday(
            False,
            "Hoy no es día hábil: esta ficha solo vale hoy y ya no podrá pagarse hoy.",
        )
    if local.time() < policy.window_start:
        return PayableToday(
            True,
            f"La caja cobra a partir de las {_hour(policy.window_start)}: esta ficha solo "
            f"vale hoy y podrá pagarse hoy a partir de las {_hour(policy.window_start)}.",
        )
    left = policy.closes_in(now)
    if left is None:
        return PayableToday(
            False,
            f"La caja cobra de {_hour(policy.window_start)} a {_hour(policy.window_end)}: "
            "esta ficha solo vale hoy y ya no podrá pagarse hoy.",
        )
    if left < CLOSING_SOON:
        minutes = -int(-left.total_seconds() // 60)
        unit = "minuto" if minutes == 1 else "minutos"
        return PayableToday(
            True, f"La caja deja de cobrar en {minutes} {unit}: esta ficha solo vale hoy."
        )
    return PayableToday(True, None)


@dataclass(frozen=True, slots=True)
class Tender:
    """Amounts applied to the payment by method; change is already excluded from ``cash``."""

    cash: Decimal = Decimal("0.00")
    card: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        for name in ("cash", "card"):
            if not isinstance(getattr(self, name), Decimal):
                raise TypeError(f"Tender.{name} debe ser Decimal")

    @property
    def total(self) -> Decimal:
        return self.cash + self.card


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    code: str
    message: str
    record: ReferenceRecord | None = field(default=None, compare=False)


ACEPTADA = "ACEPTADA"
NO_ENCONTRADA = "NO_ENCONTRADA"  # not in the cache: worth asking central
TERMINAL_RECHAZADA = "TERMINAL_RECHAZADA"  # central refused this terminal (401/403)


def terminal_refused(central_says: str) -> Verdict:
    """The scan's lookup was refused because of the terminal, not the ficha: the ficha may
    be perfectly valid, so it must not read as "no existe" (a cashier would send the
    affiliate away). Only the institute's systems area can fix it."""
    said = f" El instituto respondió: «{central_says.strip()}»" if central_says.strip() else ""
    return _refuse(
        TERMINAL_RECHAZADA,
        "El instituto rechazó a esta terminal y no se pudo consultar la referencia (la ficha "
        "no se juzgó): la terminal no está autorizada, no está dada de alta como caja o su "
        "token fue revocado. No cobre; llame al área de sistemas del ISSEG." + said,
    )


def _refuse(code: str, message: str, record: ReferenceRecord | None = None) -> Verdict:
    return Verdict(False, code, message, record)


_STATUS_MESSAGES = {
    "PAGADA": "Esta referencia ya fue pagada. No cobre de nuevo.",
    "SUSTITUIDA": (
        "Esta ficha fue reemplazada por una más reciente del mismo préstamo. "
        "Pida al afiliado la ficha nueva."
    ),
    "CANCELADA": "Esta referencia fue cancelada por el instituto. No se puede cobrar.",
    "CADUCADA": "Esta ficha ya caducó. El afiliado debe generar una ficha nueva.",
}


def check_reference(
    record: ReferenceRecord | None,
    *,
    now: datetime,
    policy: Policy,
    online: bool = True,
    clock_skew: timedelta | None = None,
) -> Verdict:
    """Rules 1–5 and 8: everything that can be said before the money is counted."""
    local = policy.local(now)
    if record is None:
        if online:
            return _refuse(
                NO_ENCONTRADA,
                "La referencia no existe en el sistema del instituto. Verifique la ficha.",
            )
        return _refuse(
            NO_ENCONTRADA,
            "Sin conexión con el instituto y la referencia no está en la caja: "
            "no se puede validar ahora. Intente cuando vuelva la conexión.",
        )
    try:
        parse_reference(record.reference)
    except InvalidReference as exc:
        return _refuse(InvalidReference.code, str(exc), record)
    if record.local_payment_uuid is not None:
        return _refuse(
            PAGADA, "Esta referencia ya se cobró en esta farmacia. No cobre de nuevo.", record
        )
    if record.status != VIGENTE:
        return _refuse(record.status, _STATUS_MESSAGES[record.status], record)
    if clock_skew is not None and abs(clock_skew) > policy.max_clock_skew:
        minutes = int(abs(clock_skew).total_seconds() // 60)
        return _refuse(
            "RELOJ_DESFASADO",
            f"El reloj de esta caja difiere {minutes} minutos del instituto. "
            "No se pueden recibir pagos hasta corregir la hora.",
            record,
        )
    today = local.date()
    if record.issued_on < today:
        return _refuse(
            "CADUCADA",
            f"La ficha es del {record.issued_on:%d/%m/%Y} y solo era válida ese día. "
            "El afiliado debe generar una ficha nueva.",
            record,
        )
    if record.issued_on > today:
        return _refuse(
            "FECHA_FUTURA",
            f"La ficha tiene fecha {record.issued_on:%d/%m/%Y}, posterior a hoy. "
            "Revise la fecha y hora de la caja.",
            record,
        )
    if not policy.is_business_day(today):
        return _refuse(
            "DIA_INHABIL",
            "Hoy no es día hábil: no se reciben pagos de préstamos.",
            record,
        )
    if not policy.in_window(now):
        return _refuse(
            "FUERA_DE_HORARIO",
            f"Fuera de horario: los pagos se reciben de {policy.window_start:%H:%M} a "
            f"{policy.window_end:%H:%M}.",
            record,
        )
    return Verdict(True, ACEPTADA, "Referencia válida: cobre el importe exacto.", record)


def check_tender(record: ReferenceRecord, tender: Tender, policy: Policy) -> Verdict:
    """Rules 6 and 7: the exact amount, and the cash cap on the cash part."""
    for part in (tender.cash, tender.card):
        if part < 0 or part != money.round_centavo(part):
            return _refuse(
                "MONTO_INVALIDO",
                "Los importes deben ser positivos y con centavos completos.",
                record,
            )
    if tender.total != record.amount:
        return _refuse(
            "MONTO_DISTINTO",
            f"El importe debe ser exactamente {money.fmt(record.amount)}; "
            f"se aplicaron {money.fmt(tender.total)}. No se aceptan pagos parciales ni "
            "en exceso.",
            record,
        )
    if tender.cash > policy.cash_cap:
        return _refuse(
            "EXCEDE_TOPE_EFECTIVO",
            f"El efectivo no puede pasar de {money.fmt(policy.cash_cap)} por pago; "
            f"cobre el resto ({money.fmt(tender.cash - policy.cash_cap)}) con tarjeta.",
            record,
        )
    return Verdict(True, ACEPTADA, "Pago válido.", record)


def check_payment(
    record: ReferenceRecord | None,
    *,
    tender: Tender,
    now: datetime,
    policy: Policy,
    online: bool = True,
    clock_skew: timedelta | None = None,
) -> Verdict:
    """Every rule of SPEC 2.1, in order; the first refusal wins."""
    verdict = check_reference(record, now=now, policy=policy, online=online, clock_skew=clock_skew)
    if not verdict.ok or record is None:
        return verdict
    return check_tender(record, tender, policy)
