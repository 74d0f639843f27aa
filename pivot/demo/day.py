"""A landlord's day, step by step, each step returning its outcome and its checks.

1. initial load: the ERP's estate, tenants and leases read page by page, the lots pushed to
   the Ublo-like tool;
2. tenant messages: chatbot messages → requests (in Ublo when the lot is known) → AI triage →
   interventions in the Urbest-like tool, urgent ones first; acknowledgements to tenants;
3. interventions completed: contractors' webhooks → rechargeable costs billed in the ERP,
   tenants told the appointment and the end of works;
4. a lease notice in the ERP: the lot goes "notice" in Ublo, a pre-exit inspection is opened;
5. technical data changed in Ublo (new DPE): the golden lot takes it, no echo back to Ublo;
6. dead letters replayed once the satellites are healthy again.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from observability.metrics import PivotMetrics, Stage
from pivot.demo.checks import Check, estate_in_ublo, golden_counts, versions_from
from pivot.demo.satellites import Satellites, wait_for
from pivot.pipeline.dlq import read_dead_letters, replay, select_letters
from pivot.stack import Progress, Stack
from pivot.store import golden, xref


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
        #: Requests of the day on a lot Ublo knows: each must end up there once.
        self.ublo_requests: list[str] = []

    def play(self) -> list[Step]:
        """Every step in order."""
        steps = []
        for run in (self.initial_load, self.tenant_messages, self.interventions_completed,
                    self.lease_notice, self.ublo_enrichment, self.replay_dead_letters):
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
            wellformed = self._wellformed()
            wait_for(lambda: self.metrics.count(self.metrics.dlq_writes, connector="urbest")
                     >= len(wellformed), self.timeout_s)
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

        def settled() -> bool:
            urbest = self.sat.state("urbest")
            created = sum(1 for i in urbest["interventions"] if i["external_ref"] in self._request_ids())
            dead = self.metrics.count(self.metrics.dlq_writes, connector="urbest")
            return created + dead >= len(records)

        wait_for(settled, self.timeout_s, 0.3)
        if self.faults == "heavy":
            self.sat.calm()
            self._replay(["urbest"])
            wait_for(lambda: self._interventions_for_requests() >= len(records), self.timeout_s, 0.3)
        chatbot, urbest = self.sat.state("chatbot"), self.sat.state("urbest")
        request_of = self._request_ids_by_message()
        interventions = [i for i in urbest["interventions"] if i["external_ref"] in request_of.values()]
        by_ref = Counter(i["external_ref"] for i in interventions)
        missing = [m for m, rid in request_of.items() if by_ref[rid] == 0]
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
            "requests": len(request_of), "interventions": len(interventions),
            "ublo_requests": sum(1 for r in with_lot if ublo_refs[r]),
            "linked_to_erp_tenant": self._linked_users(records),
            "median_ms_by_priority": {p: round(statistics.median(v), 1)
                                      for p, v in sorted(by_priority.items())},
        }
        step.checks = [
            Check("every message accepted by the hub", len(accepted) == len(self._sent()) > 0,
                  f"{len(accepted)} accepted of {len(self._sent())} sent"),
            Check("every well-formed message became one intervention", not missing and not doubled,
                  f"{len(interventions)} interventions for {len(records)} messages; missing "
                  f"{len(missing)}, doubled {len(doubled)}"),
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
        return step

    def interventions_completed(self) -> Step:
        """Contractors complete the work; rechargeable costs billed; tenants told."""
        step = Step("interventions_completed")
        self.sat.advance_interventions()
        request_of = self._request_ids_by_message()
        refs = set(request_of.values())

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

    def _request_ids(self) -> set[str]:
        return set(self._request_ids_by_message().values())

    def _interventions_for_requests(self) -> int:
        refs = self._request_ids()
        return sum(1 for i in self.sat.state("urbest")["interventions"] if i["external_ref"] in refs)

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
