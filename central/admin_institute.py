"""``isseg-farmacia admin`` commands for the institute's side of central: service accounts,
the policy, webhooks (endpoints, delivery log, replay) and cases."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from central import db as dbmod
from central.models import ServiceAccount, WebhookEndpoint
from central.service import accounts, cases, policy, webhooks
from central.service.common import ApiError, Outcome
from kiosk.rules import Policy

COMMANDS = ("cuenta-de-servicio", "politica", "webhook", "casos")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "cuenta-de-servicio",
        parents=[common],
        help="Cuentas de servicio de los sistemas del instituto (alcances, revocación).",
    )
    p.add_argument("accion", choices=["crear", "revocar", "listar"])
    p.add_argument("nombre", nargs="?", help="Nombre de la cuenta, p. ej. portal.")
    p.add_argument(
        "--alcance",
        action="append",
        choices=accounts.SCOPES,
        default=[],
        help="Alcance (repetible): " + ", ".join(accounts.SCOPES) + ".",
    )
    p.add_argument("--json", action="store_true", help="Salida en JSON.")

    p = sub.add_parser(
        "politica", parents=[common], help="Muestra o fija la política (nueva versión)."
    )
    p.add_argument("accion", choices=["ver", "fijar", "historial"])
    p.add_argument("--ventana", metavar="HH:MM-HH:MM", help="Horario de cobro.")
    p.add_argument("--tope-efectivo", metavar="PESOS", help="Tope de efectivo por pago.")
    p.add_argument("--horas-sin-conexion", type=int, metavar="H", help="Ventana sin conexión.")
    p.add_argument("--fichas-por-dia", type=int, metavar="N", help="Fichas por afiliado por día.")
    p.add_argument(
        "--inhabil",
        action="append",
        metavar="AAAA-MM-DD",
        help="Día inhábil propio del instituto (repetible; reemplaza la lista).",
    )
    p.add_argument("--por", default="admin", help="Quién hace el cambio.")

    p = sub.add_parser("webhook", parents=[common], help="Webhooks al instituto.")
    p.add_argument("accion", choices=["alta", "baja", "lista", "bitacora", "reenviar"])
    p.add_argument("--url", help="Dirección que recibe los eventos (alta).")
    p.add_argument("--secreto", help="Secreto HMAC-SHA256 (alta; 16 a 200 caracteres).")
    p.add_argument("--id", type=int, dest="endpoint_id", help="Número de destino.")
    p.add_argument("--desde", type=int, default=0, help="Reenviar los eventos después de este.")

    p = sub.add_parser("casos", parents=[common], help="Casos por resolver y su resolución.")
    p.add_argument("accion", choices=["lista", "resolver"])
    p.add_argument("caso", nargs="?", type=int, help="Número de caso (resolver).")
    p.add_argument("--accion", dest="resolucion", choices=cases.ACTIONS, help="Resolución.")
    p.add_argument("--por", help="Quién resuelve.")
    p.add_argument("--motivo", help="Por qué.")
    p.add_argument("--abiertos", action="store_true", help="Solo los no resueltos.")
    p.add_argument("--json", action="store_true", help="Salida en JSON.")


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _show(outcome: Outcome) -> int:
    print(json.dumps(outcome.body, ensure_ascii=False, indent=2))
    return 0


def run(args: argparse.Namespace, db: dbmod.Database, default: Policy, now: datetime) -> int:
    try:
        return _run(args, db, default, now)
    except ApiError as exc:
        return _fail(exc.message)


def _run(args: argparse.Namespace, db: dbmod.Database, default: Policy, now: datetime) -> int:
    current = policy.current_policy(db, default)
    if args.command == "cuenta-de-servicio":
        if args.accion == "listar":
            with db.read() as s:
                for a in s.query(ServiceAccount).order_by(ServiceAccount.account_id):
                    state = "revocada" if a.revoked_at else "activa"
                    print(f"{a.account_id}\t{a.name}\t{','.join(a.scopes)}\t{state}")
            return 0
        if not args.nombre:
            return _fail("Indique el nombre de la cuenta.")
        if args.accion == "revocar":
            with db.write() as s:
                found = accounts.revoke_account(s, args.nombre, now)
            if not found:
                return _fail(f"No existe la cuenta {args.nombre}.")
            print(f"Cuenta {args.nombre} revocada.")
            return 0
        with db.write() as s:
            account, token = accounts.create_account(s, args.nombre, args.alcance, now)
            scopes = list(account.scopes)
        if args.json:
            print(json.dumps({"name": args.nombre, "scopes": scopes, "token": token}))
        else:
            print(f"Cuenta {args.nombre} con alcances {', '.join(scopes)}.")
            print(f"Token (se muestra una sola vez): {token}")
        return 0
    if args.command == "politica":
        if args.accion == "ver":
            print(json.dumps(current.to_dict(), ensure_ascii=False, indent=2))
            return 0
        if args.accion == "historial":
            print(json.dumps(policy.policy_history(db, current), ensure_ascii=False, indent=2))
            return 0
        changes: dict[str, Any] = {"version": current.version + 1}
        if args.ventana:
            start, _, end = args.ventana.partition("-")
            changes.update(window_start=start, window_end=end)
        if args.tope_efectivo:
            changes["cash_cap"] = args.tope_efectivo
        if args.horas_sin_conexion is not None:
            changes["offline_window_hours"] = args.horas_sin_conexion
        if args.fichas_por_dia is not None:
            changes["max_daily_slips"] = args.fichas_por_dia
        if args.inhabil:
            changes["non_working_days"] = args.inhabil
        return _show(policy.set_policy(db, changes, args.por, now, default))
    if args.command == "webhook":
        if args.accion == "alta":
            if not args.url or not args.secreto:
                return _fail("Indique --url y --secreto.")
            with db.write() as s:
                endpoint = webhooks.add_endpoint(s, args.url, args.secreto, now)
                print(f"Destino {endpoint.endpoint_id}: {endpoint.url}")
            return 0
        if args.accion == "baja":
            with db.write() as s:
                gone = s.get(WebhookEndpoint, args.endpoint_id or 0)
                if gone is None:
                    return _fail("Indique un --id de destino existente.")
                gone.active = False
            print(f"Destino {args.endpoint_id} dado de baja.")
            return 0
        if args.accion == "lista":
            with db.read() as s:
                for e in s.query(WebhookEndpoint).order_by(WebhookEndpoint.endpoint_id):
                    print(f"{e.endpoint_id}\t{e.url}\t{'activo' if e.active else 'baja'}")
            return 0
        if args.accion == "bitacora":
            print(json.dumps(webhooks.delivery_log(db), ensure_ascii=False, indent=2))
            return 0
        queued = webhooks.replay(db, args.desde, now, args.endpoint_id)
        print(f"{queued} entregas puestas otra vez en cola.")
        return 0
    if args.accion == "lista":
        items = cases.list_cases(db, current, open_only=args.abiertos)
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
        for i in items if not args.json else []:
            state = i["resolution"] or "ABIERTO"
            print(f"{i['case_id']}\t{i['store_id']}\t{i['reference']}\t${i['amount']}\t"
                  f"{i['reason_code']}\t{state}")  # fmt: skip
        return 0
    if not args.caso or not args.resolucion or not args.por or not args.motivo:
        return _fail("Indique el caso, --accion, --por y --motivo.")
    return _show(
        cases.resolve_case(db, args.caso, args.resolucion, args.por, args.motivo, now, current)
    )
