/** The shape every benchmark reports: ours against a peer run in the same invocation. */
export interface BenchFigure {
  name: string;
  unit: string;
  ours: number;
  peer?: number;
  /** ours / peer for "higher is better" figures, peer / ours for "lower is better". */
  ratio?: number;
  higherIsBetter: boolean;
}

export interface BenchReport {
  bench: string;
  peer: string;
  startedAt: string;
  machine: { cpus: number; node: string };
  params: Record<string, unknown>;
  figures: BenchFigure[];
  notes?: string[];
}

export function figure(name: string, unit: string, ours: number, peer: number | undefined, higherIsBetter = true): BenchFigure {
  const f: BenchFigure = { name, unit, ours, higherIsBetter };
  if (peer !== undefined) {
    f.peer = peer;
    f.ratio = higherIsBetter ? ours / peer : peer / ours;
  }
  return f;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
