"""The sandbox satellites of ``pivot demo``, seeded together so they describe one landlord.

The ERP draws the estate; the chatbot's users are some of the ERP's current tenants (same
names, phones and e-mails, under the chatbot's own ids, two in three giving their ERP tenant
reference); the Ublo-like tool starts empty and the Urbest-like tool with its contractors.
Each sandbox uses its own id scheme, so the hub's xref is really exercised.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from connectors.chatbot import sandbox as chatbot_sandbox
from connectors.erp import sandbox as erp_sandbox
from connectors.erp.data import ascii_slug
from connectors.ublo import sandbox as ublo_sandbox
from connectors.urbest import sandbox as urbest_sandbox

#: Connectors whose satellite is another connector's sandbox: the certificate reader fetches
#: the documents tenants sent from the chatbot's API.
SHARED_SATELLITES = {"ai_insurance": "chatbot"}

#: The sandbox satellites, by connector name.
SANDBOXES = ("erp", "ublo", "urbest", "chatbot")


@dataclass(frozen=True)
class SandboxOptions:
    """What the satellites are built from."""

    seed: int
    hub_url: str
    webhook_secret: str
    #: Lots of the ERP's estate (the landlord's size).
    lots: int = 2000
    #: Chatbot users drawn from the ERP's current tenants.
    chatbot_users: int = 300
    #: Share of chatbot users who gave their ERP tenant reference.
    hint_share: float = 0.65


def chatbot_users(
    erp: erp_sandbox.ErpState, options: SandboxOptions
) -> list[chatbot_sandbox.ChatbotTenant]:
    """Chatbot users drawn from the ERP's tenants holding a current lease."""
    rng = random.Random(f"demo-users:{options.seed}")
    tenants = {t["code_tiers"]: t for t in erp.tables["tenants"].records}
    current = [lease for lease in erp.tables["leases"].records if lease["statut"] != "RESILIE"]
    picked = rng.sample(current, min(options.chatbot_users, len(current)))
    users = []
    for number, lease in enumerate(sorted(picked, key=lambda x: x["code_bail"]), start=1):
        person = tenants[lease["titulaires"][0]]
        building = erp.tables["buildings"].get(
            erp.tables["lots"].get(lease["code_ug"])["code_batiment"])  # type: ignore[index]
        address: dict[str, Any] = building["adresse"] if building else {}
        first = person["prenom"]
        last = person["nom"].title()
        users.append(chatbot_sandbox.ChatbotTenant(
            user_id=f"CB-USR-{100_000 + number * 7:06d}",
            civility="Mme" if person["civilite"] == "MME" else "M.",
            first_name=first, last_name=last,
            phone=person["telephone"] or f"+336{rng.randrange(10**8):08d}",
            email=person["email"] or f"{ascii_slug(first)}.{number}@orange.fr",
            address=chatbot_sandbox.TenantAddress(
                line1=f"{address.get('numero_voie', '1')} {address.get('libelle_voie', '')}".strip(),
                postal_code=address.get("code_postal", "69000"), city=address.get("ville", "Lyon")),
            erp_tenant_ref=person["code_tiers"] if rng.random() < options.hint_share else None,
        ))
    return users


def build_sandboxes(options: SandboxOptions) -> dict[str, FastAPI]:
    """The satellites' apps by connector name."""
    erp = erp_sandbox.create_app(seed=options.seed, lots=options.lots)
    hooks = {"hub_url": options.hub_url, "webhook_secret": options.webhook_secret}
    return {
        "erp": erp,
        "ublo": ublo_sandbox.create_app(seed=options.seed, **hooks),
        "urbest": urbest_sandbox.create_app(seed=options.seed, **hooks),
        "chatbot": chatbot_sandbox.create_app(
            seed=options.seed, tenants=chatbot_users(erp.state.sandbox, options), **hooks),
    }


def build_sandbox(name: str, options: SandboxOptions) -> FastAPI:
    """One satellite's app, seeded as :func:`build_sandboxes` seeds it.

    The chatbot's users are drawn from the ERP built with the same options, so satellites
    served one by one still describe one landlord.
    """
    if name not in SANDBOXES:
        raise ValueError(f"no sandbox named {name!r} (one of {', '.join(SANDBOXES)})")
    hooks = {"hub_url": options.hub_url, "webhook_secret": options.webhook_secret}
    if name == "ublo":
        return ublo_sandbox.create_app(seed=options.seed, **hooks)
    if name == "urbest":
        return urbest_sandbox.create_app(seed=options.seed, **hooks)
    erp = erp_sandbox.create_app(seed=options.seed, lots=options.lots)
    if name == "erp":
        return erp
    return chatbot_sandbox.create_app(
        seed=options.seed, tenants=chatbot_users(erp.state.sandbox, options), **hooks)
