# Copyright (c) feather-mmdet contributors. All rights reserved.
"""Tables and plots from ``tools/benchmark.py``'s ``results.json`` (no torch
or model imports: reporting runs anywhere)."""
import json
from typing import Dict, List, Optional, Tuple


def runtimes_of(results: Dict[str, dict]) -> List[str]:
    """Runtimes measured for every config, in first-seen order."""
    seen: List[str] = []
    for res in results.values():
        for entry in res['sizes'].values():
            seen += [r for r in entry['latency'] if r not in seen]
    return seen


def describe_cpus(results: Dict[str, dict]) -> str:
    """The CPUs a results dict was measured on (``cpu`` of each config, see
    :func:`feather_mmdet.utils.cpu.cpu_info`); '' for older files."""
    cpus = {json.dumps(r['cpu'], sort_keys=True) for r in results.values()
            if 'cpu' in r}
    return '; '.join(
        f'{c["model"]}, {c["cpus"]} CPUs, {" ".join(c["isa"]) or "-"}' +
        (f' (oneDNN capped at {c["isa_cap"]})' if c.get('isa_cap') else '')
        for c in map(json.loads, sorted(cpus)))


def _latency(res: dict, size: str, runtime: str) -> Optional[float]:
    entry = res['sizes'].get(size, {}).get('latency', {}).get(runtime)
    return entry['total'] if entry else None


def to_markdown(results: Dict[str, dict], reference: str,
                sizes: List[str]) -> str:
    """One row per config: params, FLOPs and latency per size and runtime,
    each with its ratio to ``reference`` measured in the same run."""
    ref = results[reference]
    runtimes = runtimes_of(results)
    head = ['config', 'params (M)', 'proposals']
    for size in sizes:
        head.append(f'GFLOPs {size}')
        head += [f'{rt} {size} (s)' for rt in runtimes]
    head.append('peak mem (MB)')
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]

    def cell(value: Optional[float], ref_value: Optional[float],
             fmt: str) -> str:
        if value is None:
            return '-'
        ratio = f' ({value / ref_value:.2f}x)' if ref_value else ''
        return fmt.format(value) + ratio

    for name, res in results.items():
        cells = [
            name,
            cell(res['params']['model'] / 1e6, ref['params']['model'] / 1e6,
                 '{:.2f}'),
            str(res.get('proposals') or '-')
        ]
        for size in sizes:
            cells.append(
                cell(res['sizes'][size]['flops']['model'] / 1e9,
                     ref['sizes'][size]['flops']['model'] / 1e9, '{:.1f}'))
            cells += [
                cell(
                    _latency(res, size, rt), _latency(ref, size, rt),
                    '{:.2f}') for rt in runtimes
            ]
        cells.append(f'{res.get("peak_mem_mb", 0):.0f}')
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows) + '\n'


def ratio_spread(repeats: List[Dict[str, dict]], reference: str
                 ) -> Dict[str, Dict[str, Dict[str, List[float]]]]:
    """Latency ratio to ``reference`` in each repetition:
    ``{config: {size: {runtime: [ratio per repetition]}}}``."""
    out: Dict[str, Dict[str, Dict[str, List[float]]]] = {}
    for results in repeats:
        ref = results.get(reference)
        if ref is None:
            continue
        for name, res in results.items():
            for size, entry in res['sizes'].items():
                for rt in entry['latency']:
                    ours, theirs = _latency(res, size, rt), _latency(
                        ref, size, rt)
                    if ours and theirs:
                        out.setdefault(name, {}).setdefault(
                            size, {}).setdefault(rt, []).append(ours / theirs)
    return out


def spread_markdown(repeats: List[Dict[str, dict]], reference: str,
                    sizes: List[str]) -> str:
    """Median (min-max) of each latency ratio over the repetitions."""
    spread = ratio_spread(repeats, reference)
    runtimes = runtimes_of(repeats[0])
    head = ['config'] + [f'{rt} {size}' for size in sizes for rt in runtimes]
    rows = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, per_size in spread.items():
        cells = [name]
        for size in sizes:
            for rt in runtimes:
                vals = sorted(per_size.get(size, {}).get(rt, []))
                cells.append('-' if not vals else (
                    f'{vals[len(vals) // 2]:.2f}x ({vals[0]:.2f}-'
                    f'{vals[-1]:.2f}, n={len(vals)})'))
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows) + '\n'


def profile_markdown(results: Dict[str, dict], top: int = 8) -> str:
    """onnxruntime milliseconds per operator type, per config and size."""
    rows = []
    for name, res in results.items():
        for size, entry in res['sizes'].items():
            prof = entry.get('onnxruntime_profile_ms')
            if prof:
                total = sum(prof.values())
                ops = ', '.join(f'{op} {ms:.0f} ({ms / total:.0%})'
                                for op, ms in list(prof.items())[:top])
                rows.append(f'| {name} | {size} | {total:.0f} | {ops} |')
    if not rows:
        return ''
    return ('| config | size | kernel ms | top operators (ms, share) |\n'
            '|---|---|---|---|\n' + '\n'.join(rows) + '\n')


def int8_markdown(repeats: List[Dict[str, dict]]) -> str:
    """Per config, size and int8 variant: latency over the fp32 file's in the
    same runtime and repetition (median and min-max), int8 convs in
    onnxruntime's optimised graph, and file size over the fp32 file's."""
    rows = []
    results = repeats[0]
    for name, res in results.items():
        for size, entry in res['sizes'].items():
            for rt in entry['latency']:
                if 'int8' not in rt:
                    continue
                fp32 = rt.split('-')[0]  # the same runtime's fp32 timing
                ratios = sorted(
                    _latency(rep[name], size, rt) /
                    _latency(rep[name], size, fp32) for rep in repeats
                    if _latency(rep.get(name, {'sizes': {}}), size, rt)
                    and _latency(rep[name], size, fp32))
                if not ratios:
                    continue
                mid = ratios[len(ratios) // 2]
                convs = entry.get('convs', {}).get(rt)
                share = (f'{convs["int8"]}/{convs["int8"] + convs["float"]}'
                         if convs else 'n/a')
                mb = entry.get('file_mb', {})
                size_ratio = (f'{mb[rt] / mb["onnxruntime"]:.2f}x'
                              if rt in mb and mb.get('onnxruntime') else '-')
                rows.append(
                    f'| {name} | {size} | {rt} | '
                    f'{_latency(res, size, rt):.3f} | {mid:.2f}x '
                    f'({ratios[0]:.2f}-{ratios[-1]:.2f}, n={len(ratios)}) | '
                    f'{share} | {size_ratio} |')
    if not rows:
        return ''
    return ('| config | size | int8 variant | latency (s) | vs fp32, same '
            'runtime | int8 convs | file vs fp32 |\n'
            '|---|---|---|---|---|---|---|\n' + '\n'.join(rows) + '\n')


def fastest(res: dict, size: str) -> Optional[Tuple[str, float]]:
    """The runtime with the lowest latency of a config at a size."""
    lat = {rt: e['total'] for rt, e in res['sizes'].get(size, {}).get(
        'latency', {}).items()}
    return min(lat.items(), key=lambda kv: kv[1]) if lat else None


def pareto_front(points: Dict[str, Tuple[float, float]]) -> List[str]:
    """Names of the points no other point beats: (latency, AP) with lower
    latency and higher AP better; sorted by latency."""
    front = [
        n for n, (t, ap) in points.items()
        if not any((t2 <= t and ap2 >= ap) and (t2, ap2) != (t, ap)
                   for m, (t2, ap2) in points.items() if m != n)
    ]
    return sorted(front, key=lambda n: points[n][0])


def plot_pareto(results: Dict[str, dict], ap: Dict[str, float], size: str,
                path: str) -> List[str]:
    """Latency (fastest runtime per config) vs AP, the front marked; returns
    the front's names. Configs without an AP are left out."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    points = {}
    for name, res in results.items():
        best = fastest(res, size)
        if best and name in ap:
            points[name] = (best[1], ap[name])
    front = pareto_front(points)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, (t, a) in points.items():
        ax.scatter(t, a, c='tab:red' if name in front else 'tab:gray')
        ax.annotate(f'{name} ({fastest(results[name], size)[0]})', (t, a),
                    fontsize=7, xytext=(3, 3), textcoords='offset points')
    ax.plot([points[n][0] for n in front], [points[n][1] for n in front],
            c='tab:red', lw=1, label='Pareto front')
    ax.set_xlabel(f'latency @ {size}, fastest runtime per config (s)')
    ax.set_ylabel('val segm mAP')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return front


def plot(results: Dict[str, dict], size: str, runtime: str,
         path: str) -> None:
    """Latency vs params, and where the time goes, at one size/runtime."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    ax = axes[0]
    for name, res in results.items():
        x, y = res['params']['model'] / 1e6, _latency(res, size, runtime)
        if y is None:
            continue
        ax.scatter(x, y)
        ax.annotate(name, (x, y), textcoords='offset points', xytext=(4, 4))
    ax.set_xlabel('params (M)')
    ax.set_ylabel(f'latency @ {size}, {runtime} (s)')
    ax.set_title('latency vs params')
    ax.grid(alpha=0.3)

    ax = axes[1]
    names = [n for n in results if _latency(results[n], size, runtime)]
    entries = [results[n]['sizes'][size]['latency'][runtime] for n in names]
    profiles = [results[n]['sizes'][size].get('onnxruntime_profile_ms')
                for n in names]
    if runtime.startswith('onnxruntime') and all(profiles):
        # The graph has no module split: stack operator types instead.
        groups = {'Conv': ('Conv', ), 'RoiAlign': ('RoiAlign', ),
                  'Gemm (box head fc)': ('FusedGemm', 'Gemm', 'MatMul'),
                  'ConvTranspose (mask)': ('ConvTranspose', )}
        parts = {g: [sum(p.get(op, 0) for op in ops) / 1000
                     for p in profiles] for g, ops in groups.items()}
    else:
        parts = {c: [e.get(c, 0.0) for e in entries]
                 for c in ('backbone', 'neck', 'rpn_head', 'roi_head',
                           'bbox_head')}
    bottom = [0.0] * len(names)
    for label, vals in parts.items():
        if any(vals):
            ax.bar(names, vals, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, vals)]
    rest = [max(e['total'] - b, 0) for e, b in zip(entries, bottom)]
    ax.bar(names, rest, bottom=bottom, label='other')
    ax.set_ylabel(f'latency @ {size}, {runtime} (s)')
    ax.set_title('where the time goes')
    ax.legend(fontsize=8)
    ax.tick_params(axis='x', rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def fastest_ratio(repeats: List[Dict[str, dict]], name: str, reference: str,
                  size: str, runtimes: List[str],
                  reference_runtimes: Optional[List[str]] = None
                  ) -> Optional[Tuple[List[float], List[str]]]:
    """Latency of ``name`` in its fastest runtime over that of ``reference``
    in its own fastest runtime, per repetition that measured both (ratios
    within one run: these machines drift between runs).

    Args:
        reference_runtimes: Runtimes of the reference when they differ from
            ``runtimes`` (an int8 variant against the reference's fp32).

    Returns:
        (ratios, the fastest runtime of ``name`` in each), or None.
    """
    ratios, picked = [], []
    for results in repeats:
        if name not in results or reference not in results:
            continue
        ours = {rt: _latency(results[name], size, rt) for rt in runtimes}
        theirs = [_latency(results[reference], size, rt)
                  for rt in reference_runtimes or runtimes]
        ours = {rt: t for rt, t in ours.items() if t}
        theirs = [t for t in theirs if t]
        if ours and theirs:
            rt = min(ours, key=ours.get)
            ratios.append(ours[rt] / min(theirs))
            picked.append(rt)
    return (ratios, picked) if ratios else None


def plot_front(points: Dict[str, Tuple[float, float]], xlabel: str,
               path: str, labels: Optional[Dict[str, str]] = None,
               title: str = '') -> List[str]:
    """Scatter of (x = latency, y = AP) with the Pareto front drawn; returns
    the front's names."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    front = pareto_front(points)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, (t, a) in points.items():
        ax.scatter(t, a, c='tab:red' if name in front else 'tab:gray')
        ax.annotate((labels or {}).get(name, name), (t, a), fontsize=7,
                    xytext=(3, 3), textcoords='offset points')
    ax.plot([points[n][0] for n in front], [points[n][1] for n in front],
            c='tab:red', lw=1, label='Pareto front')
    ax.set_xlabel(xlabel)
    ax.set_ylabel('val segm mAP')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return front
