"""A landlord's day, step by step, each step returning its outcome and its checks.

1. initial load: the ERP's estate, tenants and leases read page by page, the lots pushed to
   the Ublo-like tool;
2. tenant messages: chatbot messages → requests (in Ublo when the lot is known) → AI triage →
   interventions in the Urbest-like tool, urgent ones first; acknowledgements to tenants;
3. interventions completed: contractors' webhooks → rechargeable costs billed in the ERP,
   tenants told the appointment and the end of works;
3b. insurance certificates sent through the chatbot: read and checked by the AI against the
   lease and the lot, the status written on the ERP lease, the tenant told;
4. a lease notice in the ERP: the lot goes "notice" in Ublo, a pre-exit inspection is opened;
5. technical data changed in Ublo (new DPE): the golden lot takes it, no echo back to Ublo;
6. dead letters replayed once the satellites are healthy again.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from canonical_model import TenantRequest
from connectors.urbest.mapping import needs_work_order
from observability.metrics import PivotMetrics, Stage
from pivot.demo.certificates import OUTCOMES, Insured, certificate_pdf, printable
from pivot.demo.checks import Check, estate_in_ublo, golden_counts, versions_from
from pivot.demo.satellites import Satellites, wait_for
from pivot.pipeline.dlq import read_dead_letters, replay, select_letters
from pivot.stack import Progress, Stack
from pivot.store import golden, tenancy, xref
from pivot.store.tables import AiDecision


@dataclass
class Step:
    """What one step of the day did."""

    name: str
    outcome: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "ok": all(c.ok for c in self.checks),
                "seconds": round(self.seconds, 2), **self.outcome,
                "checks": [c.__dict__ for c in self.checks]}

#: The landlord's day is Paris's day.
PARIS = ZoneInfo("Europe/Paris")


class LandlordDay:
    """Plays the day on a running stack."""

    def __init__(self, stack: Stack, messages: int, faults: str, timeout_s: float,
                 progress: Progress) -> None:
        self.stack = stack
        self.sat = Satellites(stack.sandboxes)
        self.metrics: PivotMetrics = stack.hub.metrics
        self.messages = messages
        self.faults = faults
        self.timeout_s = timeout_s
        self.progress = progress
        self.latencies_ms: list[float] = []
        self.replayed = 0
        #: Requests of the day that call for a work order.
        self.work: set[str] = set()
        #: Requests of the day on a lot Ublo knows: each must end up there once.
        self.ublo_requests: list[str] = []

    def play(self) -> list[Step]:
        """Every step in order."""
        steps = []
        for run in (self.initial_load, self.tenant_messages, self.interventions_completed,
                    self.insurance_certificates, self.lease_notice, self.ublo_enrichment,
                    self.replay_dead_letters):
            began = time.monotonic()
            step = run()
            step.seconds = time.monotonic() - began
            steps.append(step)
            self.progress(f"{step.name}: {'ok' if all(c.ok for c in step.checks) else 'FAILED'} "
                          f"in {step.seconds:.1f} s")
        self.sat.close()
        return steps

    # ------------------------------------------------------------------ steps

    def initial_load(self) -> Step:
        """The ERP's full export through the hub; lots pushed to Ublo."""
        step = Step("initial_load")
        erp = self.sat.state("erp")
        records = sum(erp["counts"].values())
        self.progress(f"reading the ERP's export: {records} records")
        for poller in self.stack.pollers:
            poller.catch_up(lambda page: self.progress(f"ERP export: {page.note}"))
            poller.start()  # then the change feed, every second
        lots = erp["counts"]["lots"]
        wait_for(lambda: self.sat.state("ublo")["counts"]["properties"] >= lots, self.timeout_s, 0.5)
        ublo = self.sat.state("ublo")
        golden = golden_counts(self.stack.hub.store)
        step.outcome = {"erp_records": records, "lots": lots,
                        "ublo_properties": ublo["counts"]["properties"], "golden": golden}
        expected = {"residence": erp["counts"]["residences"], "building": erp["counts"]["buildings"],
                    "lot": lots, "tenant": erp["counts"]["tenants"], "lease": erp["counts"]["leases"]}
        got = {k: golden.get(k, 0) for k in expected}
        step.checks = [
            Check("every ERP record is one golden record", got == expected,
                  f"golden {got}, ERP {expected}"),
            estate_in_ublo(erp, ublo),
        ]
        return step

    def tenant_messages(self) -> Step:
        """Tenant messages → requests → triage → interventions and acknowledgements."""
        step = Step("tenant_messages")
        if self.faults == "heavy":
            self.sat.faults("chatbot", malformed_rate=0.05)
            self.sat.faults("urbest", error_rate=1.0)
            during = max(3, self.messages // 5)
            self.progress(f"maintenance tool down: {during} messages sent meanwhile")
            self.sat.send_messages(during)
            _, work = self._triaged()
            wait_for(lambda: self.metrics.count(self.metrics.dlq_writes, connector="urbest")
                     >= len(work), self.timeout_s)
            self.sat.faults("urbest", error_rate=0.2, timeout_rate=0.05, timeout_delay_s=0.8)
            self.sat.faults("ublo", error_rate=0.2)
            self.progress("maintenance tool back but flaky (20 % 5xx, 5 % timeouts)")
            self.sat.send_messages(self.messages - during)
        else:
            if self.faults == "light":
                self.sat.faults("chatbot", malformed_rate=0.05)
                self.sat.faults("urbest", error_rate=0.1)
                self.sat.faults("ublo", error_rate=0.1)
            self.sat.send_messages(self.messages)
        records = self._wellformed()
        accepted = self._accepted()
        self.progress(f"chatbot sent {len(accepted)} messages ({len(accepted) - len(records)} "
                      "malformed)")

        request_of, work = self._triaged()
        self.work = work

        def settled() -> bool:
            created = self._interventions_for(work)
            dead = self.metrics.count(self.metrics.dlq_writes, connector="urbest")
            return created + dead >= len(work)

        wait_for(settled, self.timeout_s, 0.3)
        if self.faults == "heavy":
            self.sat.calm()
            self._replay(["urbest"])
            wait_for(lambda: self._interventions_for(work) >= len(work), self.timeout_s, 0.3)
        questions = self._questions(request_of)
        if "ai_assistant" in self.stack.hub.connectors:
            wait_for(lambda: len(self._answered(questions)) >= len(questions), self.timeout_s, 0.3)
        chatbot, urbest = self.sat.state("chatbot"), self.sat.state("urbest")
        interventions = [i for i in urbest["interventions"] if i["external_ref"] in request_of.values()]
        by_ref = Counter(i["external_ref"] for i in interventions)
        missing = work - set(by_ref)
        unexpected = set(by_ref) - work
        doubled = [r for r, n in by_ref.items() if n > 1]
        created_at = {i["external_ref"]: i.get("created_ts") for i in interventions}
        sent_at = {r["message_id"]: r.get("sent_at") for r in records}
        self.latencies_ms = [(created_at[rid] - sent_at[m]) * 1000 for m, rid in request_of.items()
                             if created_at.get(rid) and sent_at.get(m)]
        by_priority: dict[str, list[float]] = {}
        for m, rid in request_of.items():
            intervention = next((i for i in interventions if i["external_ref"] == rid), None)
            if intervention and created_at.get(rid) and sent_at.get(m):
                by_priority.setdefault(intervention["priority"], []).append(
                    (created_at[rid] - sent_at[m]) * 1000)
        acks = Counter(r["conversation_id"] for r in chatbot["replies"] if r["kind"] == "acknowledgement")
        with_lot = self._requests_with_lot(request_of.values())
        in_ublo = self._requests_in_ublo
        # Under heavy faults a few Ublo writes are dead-lettered: they are replayed at the end.
        wait_for(lambda: sum(1 for r in with_lot if in_ublo()[r])
                 + self.metrics.count(self.metrics.dlq_writes, connector="ublo") >= len(with_lot),
                 self.timeout_s, 0.3)
        self.ublo_requests = with_lot
        ublo_refs = in_ublo()
        ublo_dead = int(self.metrics.count(self.metrics.dlq_writes, connector="ublo"))
        rejected = int(self.metrics.count(self.metrics.dlq_writes, connector="chatbot",
                                          stage=Stage.TRANSLATE))
        step.outcome = {
            "messages": len(accepted), "malformed": len(accepted) - len(records),
            "requests": len(request_of), "work_orders_needed": len(work),
            "interventions": len(interventions), "questions": len(questions),
            "ublo_requests": sum(1 for r in with_lot if ublo_refs[r]),
            "linked_to_erp_tenant": self._linked_users(records),
            "median_ms_by_priority": {p: round(statistics.median(v), 1)
                                      for p, v in sorted(by_priority.items())},
        }
        step.checks = [
            Check("every message accepted by the hub", len(accepted) == len(self._sent()) > 0,
                  f"{len(accepted)} accepted of {len(self._sent())} sent"),
            Check("every request calling for work became one intervention, and no other did",
                  not missing and not doubled and not unexpected,
                  f"{len(interventions)} interventions for {len(work)} of {len(request_of)} requests; "
                  f"missing {len(missing)}, doubled {len(doubled)}, unexpected {len(unexpected)}"),
            Check("every tenant got one acknowledgement",
                  all(acks[r["conversation_id"]] == 1 for r in records),
                  f"{sum(acks.values())} acknowledgements for {len(records)} messages"),
            Check("every request on a known lot created once in Ublo (or dead-lettered)",
                  all(ublo_refs[r] <= 1 for r in with_lot)
                  and sum(1 for r in with_lot if ublo_refs[r]) + ublo_dead >= len(with_lot),
                  f"{sum(1 for r in with_lot if ublo_refs[r])} of {len(with_lot)} requests, "
                  f"{ublo_dead} dead-lettered"),
            Check("every malformed payload dead-lettered with its reason",
                  rejected == len(accepted) - len(records),
                  f"{len(accepted) - len(records)} malformed, {rejected} in pivot.dlq.chatbot"),
        ]
        if "ai_assistant" in self.stack.hub.connectors:
            answered = self._answered(questions)
            step.outcome["answered"] = len(answered)
            step.checks.append(Check(
                "every question answered once in the chatbot", all(answered.get(c) == 1 for c in questions),
                f"{len(answered)} of {len(questions)} questions answered"))
        return step

    def interventions_completed(self) -> Step:
        """Contractors complete the work; rechargeable costs billed; tenants told."""
        step = Step("interventions_completed")
        self.sat.advance_interventions()
        request_of = self._request_ids_by_message()
        refs = set(self.work)

        def finished() -> list[dict[str, Any]]:
            return [i for i in self.sat.state("urbest")["interventions"]
                    if i["external_ref"] in refs and i["status"] == "completed"]

        completed = finished()
        rechargeable = {i["external_ref"] for i in completed if i.get("rechargeable_to_tenant")}
        billable = self._billable(rechargeable)

        def billed() -> set[str]:
            lines = self.sat.state("erp")["billing_lines"]
            return {line["intervention_ref"] for line in lines}

        def intervention_ids() -> dict[str, str]:
            with self.stack.hub.store.read_session() as session:
                return {rid: cid for i in completed
                        if (cid := xref.lookup(session, "urbest", "intervention", i["id"]))
                        for rid in [i["external_ref"]]}

        wait_for(lambda: len(billed() & set(intervention_ids().values())) >= len(billable),
                 self.timeout_s, 0.5)
        ids = intervention_ids()
        wanted = {ids[r] for r in billable if r in ids}
        records = self._wellformed()

        def statuses() -> Counter[str]:
            replies = self.sat.state("chatbot")["replies"]
            return Counter(r["conversation_id"] for r in replies if r["kind"] == "status")

        records = [r for r in records if request_of.get(r["message_id"]) in refs]
        wait_for(lambda: sum(statuses().values()) >= 3 * len(records), self.timeout_s, 0.3)
        told = statuses()
        lines = [line for line in self.sat.state("erp")["billing_lines"]
                 if line["intervention_ref"] in wanted]
        step.outcome = {"completed": len(completed), "rechargeable": len(rechargeable),
                        "billed": len(lines),
                        "billed_eur": str(sum((Decimal(line["amount_eur"]) for line in lines), Decimal(0)))}
        step.checks = [
            Check("every intervention completed", len(completed) == len(refs),
                  f"{len(completed)} of {len(refs)}"),
            Check("every rechargeable cost on a known lease billed once in the ERP",
                  {line["intervention_ref"] for line in lines} == wanted and len(lines) == len(wanted),
                  f"{len(lines)} billing lines for {len(wanted)} rechargeable interventions"),
            Check("every tenant told of the appointment and of the end of works",
                  all(told[r["conversation_id"]] == 3 for r in records),
                  f"{sum(told.values())} status notices for {len(records)} requests (3 each)"),
        ]
        return step

    def insurance_certificates(self) -> Step:
        """Tenants send their home-insurance certificate; read, checked, recorded, answered."""
        step = Step("insurance_certificates")
        if "ai_insurance" not in self.stack.hub.connectors:
            return step
        today = datetime.now(PARIS).date()
        picks = self._certificate_holders(today)
        expected: dict[str, str] = {}
        told: dict[str, str] = {}
        for (user, erp_lease, insured), outcome in zip(picks, OUTCOMES, strict=False):
            pdf = certificate_pdf(insured, outcome, today, len(expected))
            self.sat.send_document(user, "Bonjour, voici mon attestation d'assurance habitation.", pdf)
            expected[erp_lease] = outcome
            told[user] = "information" if outcome == "valid" else "reminder"

        def recorded() -> dict[str, str]:
            updates = self.sat.state("erp")["insurance"]["updates"]
            return {u["lease_id"]: u["status"] for u in updates if u["lease_id"] in expected}

        wait_for(lambda: len(recorded()) >= len(expected), self.timeout_s, 0.3)

        def notified() -> dict[str, str]:
            notes = self.sat.state("chatbot")["notifications"]
            return {n["user_id"]: n["kind"] for n in notes if n["user_id"] in told}

        wait_for(lambda: len(notified()) >= len(told), self.timeout_s, 0.3)
        statuses, notes = recorded(), notified()
        with self.stack.hub.store.read_session() as session:
            decided = session.scalar(select(func.count()).select_from(AiDecision)
                                     .where(AiDecision.model == "insurance_reader")) or 0
        step.outcome = {"certificates": len(expected), "statuses": dict(Counter(statuses.values())),
                        "ai_decisions": int(decided)}
        step.checks = [
            Check("every certificate read, checked and its status written on the ERP lease",
                  statuses == expected, f"{statuses} for {expected}"),
            Check("every tenant told whether their certificate is accepted", notes == told,
                  f"{len(notes)} of {len(told)} tenants told"),
            Check("every certificate decision recorded with its model version and input hash",
                  decided >= len(expected), f"{decided} decisions for {len(expected)} certificates"),
        ]
        return step

    def lease_notice(self) -> Step:
        """A tenant gives notice: lot 'notice' in Ublo and a pre-exit inspection."""
        step = Step("lease_notice")
        lease_erp_id = self._a_current_lease()
        self.sat.give_notice(lease_erp_id)
        store = self.stack.hub.store

        def ids() -> tuple[str | None, str | None]:
            with store.read_session() as session:
                lease = xref.lookup(session, "erp", "lease", lease_erp_id)
                lot = None
                if lease:
                    record = golden.get(session, lease)
                    lot = record.data.get("lot_id") if record else None
                return lease, lot

        def done() -> bool:
            lease, lot = ids()
            if not lease or not lot:
                return False
            prop = next((p for p in self.sat.state("ublo")["properties"] if p["external_ref"] == lot), None)
            inspection = any(i["external_ref"] == lease for i in self.sat.state("urbest")["interventions"])
            return bool(prop and prop["occupancy"] == "notice" and inspection)

        ok = wait_for(done, self.timeout_s, 0.5)
        lease, lot = ids()
        step.outcome = {"lease": lease_erp_id}
        step.checks = [Check("notice: lot 'notice' in Ublo and a pre-exit inspection in Urbest", ok,
                             f"lease {lease_erp_id} → {lease}, lot {lot}")]
        return step

    def ublo_enrichment(self) -> Step:
        """Ublo changes technical data; the golden lot follows, nothing echoes back."""
        step = Step("ublo_enrichment")
        store = self.stack.hub.store
        before = versions_from(store, "ublo", "lot")
        answer = self.sat.enrich_properties(5)
        changed = len(answer.get("properties", answer.get("changed", []))) or 5
        wait_for(lambda: versions_from(store, "ublo", "lot") - before >= changed, self.timeout_s, 0.3)
        time.sleep(1.0)  # an echo, if any, would be a hub write after the enrichment
        after = versions_from(store, "ublo", "lot")
        props = self.sat.state("ublo")["properties"]
        echoed = [p["id"] for p in props if p.get("last_change_source") == "hub"
                  and p.get("version", 1) > 2]
        step.outcome = {"properties_changed": changed, "golden_versions": after - before}
        step.checks = [
            Check("every Ublo change reached the golden lot", after - before >= changed,
                  f"{after - before} golden versions from Ublo for {changed} changes"),
            Check("no change echoed back to Ublo", not echoed, f"{len(echoed)} echoed"),
        ]
        return step

    def replay_dead_letters(self) -> Step:
        """Satellites healthy again: replay what was dead-lettered by a delivery."""
        step = Step("dead_letters")
        self.sat.calm()
        replayed = self._replay([n for n in self.stack.hub.connectors if n != "chatbot"])
        in_ublo = self._requests_in_ublo
        wait_for(lambda: all(in_ublo()[r] for r in self.ublo_requests), self.timeout_s, 0.3)
        ublo_refs = in_ublo()
        step.checks = [Check(
            "after the replay, every request on a known lot is in Ublo once",
            all(ublo_refs[r] == 1 for r in self.ublo_requests),
            f"{sum(1 for r in self.ublo_requests if ublo_refs[r] == 1)} of "
            f"{len(self.ublo_requests)} requests")]
        waiting = read_dead_letters(self.stack.hub.bootstrap, list(self.stack.hub.connectors),
                                    self.stack.hub.store)
        step.outcome = {"replayed": replayed,
                        "dlq": int(self.metrics.count(self.metrics.dlq_writes)),
                        "waiting_for_a_person": dict(Counter(
                            f"{letter.connector}:{letter.error_class}" for letter in waiting
                            if letter.error_class != "RetryableError" and not letter.replayed)),
                        "retries": int(self.metrics.count(self.metrics.retries))}
        return step

    # ---------------------------------------------------------------- helpers

    def _replay(self, connectors: list[str]) -> int:
        hub = self.stack.hub
        # Only what failed for a passing reason: a mapping error would fail again (it waits
        # for a person, e.g. a rechargeable cost on a lot with no known lease).
        letters = [letter for letter in read_dead_letters(hub.bootstrap, connectors, hub.store)
                   if letter.stage == Stage.DELIVER and letter.error_class == "RetryableError"]
        replayed = replay(hub.producer, hub.store, select_letters(letters, everything=True),
                          self.metrics)
        self.replayed += replayed
        return replayed

    def _requests_in_ublo(self) -> Counter[str]:
        """How many times each hub request reference is in Ublo."""
        return Counter(r["external_ref"] for r in self.sat.state("ublo")["requests"]
                       if r["external_ref"])

    def _certificate_holders(self, today: date) -> list[tuple[str, str, Insured]]:
        """(chatbot user, ERP lease, insured) of the day's tenants known to the ERP, with a lease."""
        picks: list[tuple[str, str, Insured]] = []
        with self.stack.hub.store.read_session() as session:
            for user in sorted({r["user_id"] for r in self._wellformed()}):
                tenant = xref.lookup(session, "chatbot", "tenant", user)
                if tenant is None or not xref.source_ids(session, "erp", "tenant", tenant):
                    continue
                lot = tenancy.lot_of_tenant(session, tenant, today)
                lease = tenancy.lease_on(session, lot, today) if lot else None
                person, lot_record = golden.get(session, tenant), golden.get(session, lot or "")
                building = golden.get(session, lot_record.data["building_id"]) if lot_record else None
                erp_lease = xref.source_ids(session, "erp", "lease", lease) if lease else []
                if not (person and building and erp_lease):
                    continue
                address = building.data["address"]
                if not printable(address["street"]):
                    continue
                picks.append((user, erp_lease[-1], Insured(
                    person.data.get("first_name") or "", person.data["last_name"],
                    address["street"], address["postcode"], address["city"])))
                if len(picks) == len(OUTCOMES):
                    break
        return picks

    def _sent(self) -> list[dict[str, Any]]:
        return list(self.sat.state("chatbot")["sent"])

    def _accepted(self) -> list[dict[str, Any]]:
        return [r for r in self._sent() if r.get("accepted")]

    def _wellformed(self) -> list[dict[str, Any]]:
        return [r for r in self._accepted() if not r.get("malformed")]

    def _request_ids_by_message(self) -> dict[str, str]:
        with self.stack.hub.store.read_session() as session:
            return {r["message_id"]: rid for r in self._wellformed()
                    if (rid := xref.lookup(session, "chatbot", "request", r["message_id"]))}

    def _triaged(self) -> tuple[dict[str, str], set[str]]:
        """Requests by chatbot message once all are triaged, and those calling for a work order."""
        wanted = len(self._wellformed())

        def requests() -> dict[str, TenantRequest]:
            with self.stack.hub.store.read_session() as session:
                found = {}
                for rid in self._request_ids_by_message().values():
                    record = golden.get(session, rid)
                    if record is not None:
                        found[rid] = TenantRequest.model_validate(record.data)
                return found

        wait_for(lambda: len(found := requests()) >= wanted
                 and all(r.category is not None for r in found.values()), self.timeout_s, 0.3)
        request_of = self._request_ids_by_message()
        return request_of, {rid for rid, r in requests().items() if needs_work_order(r)}

    def _interventions_for(self, refs: set[str]) -> int:
        return sum(1 for i in self.sat.state("urbest")["interventions"] if i["external_ref"] in refs)

    def _questions(self, request_of: dict[str, str]) -> dict[str, str]:
        """Conversation of each request the assistant answers (no work order, no document)."""
        conversations = {r["message_id"]: r["conversation_id"] for r in self._wellformed()}
        with self.stack.hub.store.read_session() as session:
            out = {}
            for message, rid in request_of.items():
                record = golden.get(session, rid)
                if record is None:
                    continue
                request = TenantRequest.model_validate(record.data)
                if not needs_work_order(request) and not request.attachments:
                    out[conversations[message]] = rid
            return out

    def _answered(self, questions: dict[str, str]) -> Counter[str]:
        replies = self.sat.state("chatbot")["replies"]
        return Counter(r["conversation_id"] for r in replies
                       if r["kind"] == "answer" and r["conversation_id"] in questions)

    def _requests_with_lot(self, request_ids: Any) -> list[str]:
        with self.stack.hub.store.read_session() as session:
            return [rid for rid in request_ids
                    if (rec := golden.get(session, rid)) and rec.data.get("lot_id")]

    def _billable(self, request_ids: set[str]) -> set[str]:
        """Requests whose rechargeable intervention has a lot, hence a lease to bill."""
        return set(self._requests_with_lot(request_ids))

    def _linked_users(self, records: list[dict[str, Any]]) -> int:
        with self.stack.hub.store.read_session() as session:
            users = {r["user_id"] for r in records}
            erp_tenants = {xref.lookup(session, "chatbot", "tenant", u) for u in users}
            return sum(1 for t in erp_tenants if t and xref.source_ids(session, "erp", "tenant", t))

    def _a_current_lease(self) -> str:
        """An ERP lease in force whose lot holds no request of the day (a quiet notice)."""
        erp_url = self.stack.sandboxes["erp"]
        page = self.sat.client.get(f"{erp_url}/api/v1/export/leases", params={"limit": 50}).json()
        return next(lease["code_bail"] for lease in page["items"] if lease["statut"] == "EN_COURS")
