import TenkenBase

/// How long each pending update has waited, and what that makes of a `pending-updates` rule.
/// An update's age is its own, from the update history (`UpdateHistory`): when tenken first saw
/// it pending. One older than `max-days` applies the rule's action; one whose age is unknown (a
/// one-shot check keeps no history; a history begun with it pending) gets `unknown-age`, unless
/// it is known to be older than `max-days` all the same; the others warn, named with their age.
enum UpdateAge {
    static func judge(
        _ updates: [PendingUpdate], maxDays: Int, unknownAge: PatchRule.UnknownAge, rule: Rule, now: Int,
        incomplete: Bool
    ) -> (evidence: [Evidence], status: Finding.Status, notes: [Localized]) {
        guard !updates.isEmpty else { return ([], incomplete ? .error : .pass, []) }
        let limit = maxDays * PatchRule.day
        var overdue = false
        var unknown = false
        var noHistory = false
        let evidence = updates.map { update -> Evidence in
            var note: Localized?
            // A first sighting "in the future" (a clock set back) proves nothing.
            if let seen = update.firstSeen, seen <= now + PatchRule.day {
                let age = max(0, now - seen)
                overdue = overdue || age > limit
                note = Localized(
                    ja: "\(Timestamp.japanDate(seen)) から保留中 (\(age / PatchRule.day) 日、上限 \(maxDays) 日)",
                    en: "pending since \(Timestamp.japanDate(seen)) (\(age / PatchRule.day) days, limit \(maxDays))")
            } else if let since = update.pendingAtLeastSince, since <= now + PatchRule.day {
                let age = max(0, now - since)
                if age > limit { overdue = true } else { unknown = true }
                note = Localized(
                    ja: "tenken の記録が始まった \(Timestamp.japanDate(since)) より前から保留中 "
                        + "(少なくとも \(age / PatchRule.day) 日、上限 \(maxDays) 日)",
                    en: "pending since before tenken's record began on \(Timestamp.japanDate(since)) "
                        + "(at least \(age / PatchRule.day) days, limit \(maxDays))")
            } else {
                // Said once for the finding, not on every update.
                unknown = true
                noHistory = true
            }
            var evidence = Evidence(
                source: .update, software: "", item: update.name, version: update.candidate,
                detail: update.isSecurity ? "security" : nil, installed: update.installed,
                archive: update.archives.joined(separator: ","), note: note)
            if update.isPinned {
                evidence.pinned = true
                let pinned = Localized(
                    ja: "APT の優先度設定 (pin) で候補から外されていますが、適用済みにはなりません",
                    en: "kept from being the candidate by an APT pin, which does not count as applied")
                evidence.note =
                    note.map { Localized(ja: $0.ja + "。" + pinned.ja, en: $0.en + "; " + pinned.en) } ?? pinned
                note = evidence.note
            }
            if update.isHeld {
                evidence.held = true
                let held = Localized(
                    ja: "apt-mark hold で保留されていますが、保留しても適用済みにはなりません",
                    en: "held with apt-mark hold, which does not count as applied")
                evidence.note = note.map { Localized(ja: $0.ja + "。" + held.ja, en: $0.en + "; " + held.en) } ?? held
            }
            if let seen = update.firstSeen, seen <= now + PatchRule.day {
                evidence.firstSeen = Timestamp.format(seconds: seen)
                evidence.ageDays = max(0, now - seen) / PatchRule.day
            }
            return evidence
        }
        let status: Finding.Status
        if overdue {
            status = Evaluator.violated(rule)
        } else if unknown {
            status = unknownAge == .fail ? Evaluator.violated(rule) : .warn
        } else {
            status = .warn
        }
        let notes =
            noHistory
            ? [
                Localized(
                    ja: "更新がいつから保留中か分かりません (更新の履歴がありません。agent と tenken check --cache が記録します)",
                    en: "how long the updates have been pending is unknown (no update history: the agent and "
                        + "tenken check --cache keep one)")
            ] : []
        // Lists that could not be read may hold an older update: only a violation stands.
        return (evidence, incomplete && status != .fail ? .error : status, notes)
    }
}
