package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;

/** The inline style sheet of {@link HtmlReport}: system fonts only, nothing fetched. */
@HiddenFromSites
final class HtmlStyle {
    private HtmlStyle() {
    }

    static final String CSS = """
            :root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --op: #2563eb; --blocked: #dc2626;
                    --sleeping: #7c3aed; --woken: #16a34a; --timed-out: #d97706; --exit: #374151; --threw: #991b1b; }
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg);
                   margin: 24px; max-width: none; }
            h1 { font-size: 20px; margin: 0 0 4px; }
            h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
            code, pre { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
            .verdict { font-size: 17px; font-weight: 600; margin: 4px 0 10px; padding: 6px 10px; border-radius: 6px; }
            .verdict.fail { background: #fee2e2; color: #7f1d1d; }
            .verdict.pass { background: #dcfce7; color: #14532d; }
            .verdict.diverged { background: #fef3c7; color: #78350f; }
            .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
            .facts dt { color: var(--muted); }
            .facts dd { margin: 0; }
            .replay { background: #f3f4f6; padding: 1px 6px; border-radius: 4px; user-select: all; }
            .notes, .details { background: #f9fafb; border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto;
                               white-space: pre-wrap; overflow-wrap: anywhere; }
            details.full { margin: 12px 0; } details.full > summary { cursor: pointer; font-weight: 600; }
            .hint { color: var(--muted); margin: 4px 0; }
            .scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
            svg.timeline { display: block; font: 12px system-ui, "DejaVu Sans", sans-serif; }
            svg .lane.even { fill: #f9fafb; } svg .lane.odd { fill: #f3f4f6; }
            svg .task { text-anchor: end; font-weight: 600; fill: var(--fg); }
            svg .tick, svg .axis { fill: var(--muted); font-size: 11px; }
            svg .axis { text-anchor: end; }
            svg .grid { stroke: #e5e7eb; stroke-width: 1; }
            svg .ev { stroke: #fff; stroke-width: 0.5; }
            svg .ev:hover { stroke: var(--fg); stroke-width: 1.5; }
            svg .operation, .swatch.operation { fill: var(--op); background: var(--op); }
            svg .blocked, .swatch.blocked { fill: var(--blocked); background: var(--blocked); }
            svg .sleeping, .swatch.sleeping { fill: var(--sleeping); background: var(--sleeping); }
            svg .woken, .swatch.woken { fill: var(--woken); background: var(--woken); }
            svg .timed-out, .swatch.timed-out { fill: var(--timed-out); background: var(--timed-out); }
            svg .exit, .swatch.exit { fill: var(--exit); background: var(--exit); }
            svg .threw, .swatch.threw { fill: var(--threw); background: var(--threw); }
            svg .wait rect { fill-opacity: 0.25; }
            svg .wait.blocked rect { fill: var(--blocked); } svg .wait.sleeping rect { fill: var(--sleeping); }
            svg .sw { stroke-width: 1.6; }
            svg .sw.preempted { stroke-dasharray: 3 2; }
            svg .site-mark line { stroke: #b91c1c; stroke-width: 2; }
            svg .label { font: 11px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; fill: #1e3a8a;
                         paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
            svg .label.wait { fill: #7f1d1d; } svg .label.allocated, svg .label.freed { fill: #b91c1c; font-weight: 700; }
            svg .failure line { stroke: #b91c1c; stroke-width: 2; stroke-dasharray: 5 3; }
            svg .failure circle { fill: #b91c1c; }
            svg .failure text { fill: #fff; font-weight: 700; text-anchor: middle; font-size: 13px; }
            .legend { list-style: none; padding: 0; margin: 8px 0; display: flex; flex-wrap: wrap; gap: 4px 16px;
                      color: var(--muted); }
            .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px;
                      vertical-align: -1px; }
            .swatch.line { height: 3px; vertical-align: 3px; }
            .swatch.failure { background: #b91c1c; border-radius: 50%; }
            table { border-collapse: collapse; width: 100%; }
            th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
            th { color: var(--muted); font-weight: 600; }
            tr:target { background: #fef9c3; }
            tr.blocked td:nth-child(3), tr.timed-out td:nth-child(3) { color: var(--blocked); }
            tr.woken td:nth-child(3) { color: var(--woken); }
            tr.failure td { color: #7f1d1d; font-weight: 600; background: #fee2e2; }
            footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
            """;
}
