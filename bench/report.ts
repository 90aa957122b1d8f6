// Report helpers: a plain-text table for stdout and number formatting.

export type Status = "ok" | "MISSED" | "info" | "ERROR";

export interface ReportRow {
  id: string;
  benchmark: string;
  measured: string;
  baseline: string;
  result: string;
  target: string;
  status: Status;
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString("en-US"),
  num: (n: number, digits = 1) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }),
  pct: (share: number, digits = 1) => `${(share * 100).toFixed(digits)}%`,
  s: (ms: number) => `${(ms / 1000).toFixed(1)} s`,
  ms: (ms: number) => `${Math.round(ms).toLocaleString("en-US")} ms`,
  mb: (mb: number) => `${mb.toFixed(1)} MB`,
  x: (ratio: number) => `${ratio.toFixed(2)}x`,
};

/** Status for a "value op target" check. */
export function check(value: number, op: ">=" | "<" | "<=" | "==", target: number): Status {
  const ok = op === ">=" ? value >= target : op === "<" ? value < target : op === "<=" ? value <= target : value === target;
  return ok ? "ok" : "MISSED";
}

function wrapCell(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      if (line === "") line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}

/** Renders rows as a boxed table; long cells wrap within their column's width. */
export function renderTable(rows: readonly ReportRow[]): string {
  const headers: ReportRow = { id: "#", benchmark: "Benchmark", measured: "Measured", baseline: "Baseline (same run)", result: "Result", target: "Target", status: "info" };
  const keys = ["id", "benchmark", "measured", "baseline", "result", "target", "status"] as const;
  const maxWidth: Record<(typeof keys)[number], number> = { id: 3, benchmark: 26, measured: 38, baseline: 34, result: 22, target: 12, status: 6 };
  const cells = (r: ReportRow) => keys.map((k) => wrapCell(k === "status" && r === headers ? "Status" : String(r[k]), maxWidth[k]));
  const all = [headers, ...rows].map(cells);
  const widths = keys.map((_, i) => Math.max(...all.map((c) => Math.max(...c[i]!.map((l) => l.length)))));
  const sep = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const lines: string[] = [sep];
  all.forEach((row, r) => {
    const height = Math.max(...row.map((c) => c.length));
    for (let l = 0; l < height; l++) lines.push(`| ${row.map((c, i) => (c[l] ?? "").padEnd(widths[i]!)).join(" | ")} |`);
    lines.push(r === 0 ? sep.replace(/-/g, "=") : sep);
  });
  return lines.join("\n");
}
