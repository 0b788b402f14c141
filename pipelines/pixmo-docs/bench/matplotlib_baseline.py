"""Charts per second of the original PixMo-Docs renderer's chart path (matplotlib, Agg),
for a side-by-side comparison with `pixmo bench docs --by-kind`.

PixMo-Docs ran LLM-written matplotlib code in-process and saved the figure as PNG. This
script draws charts of the same kinds and sizes as pixmo's procedural generator (categories
from a word bank, value labels, title, axis labels, legend where pixmo draws one) and times
draw + `savefig(png)` on one thread, like `pixmo bench docs --by-kind` times render + PNG
encode on one thread.

    python pipelines/pixmo-docs/bench/matplotlib_baseline.py [--count 200] [--size 800x600]
"""

import argparse
import io
import random
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WORDS = [
    "Solar", "Wind", "Hydro", "Coal", "Gas", "Nuclear", "Biomass", "Geothermal",
    "North", "South", "East", "West", "Central", "Coastal", "Alpine", "Urban",
    "Apples", "Pears", "Plums", "Cherries", "Grapes", "Kiwis", "Lemons", "Limes",
]
YEARS = [str(y) for y in range(2010, 2025)]


def labels(rng, k):
    return rng.sample(WORDS, k)


def bar(ax, rng):
    cats = labels(rng, rng.randint(4, 8))
    vals = [rng.randint(5, 100) for _ in cats]
    bars = ax.bar(cats, vals, color=rng.choice(["#4472c4", "#ed7d31", "#70ad47"]))
    ax.bar_label(bars, fmt="%d")
    ax.set_ylabel("Value")


def stacked_bar(ax, rng):
    cats = labels(rng, rng.randint(4, 7))
    bottom = [0] * len(cats)
    for s in range(rng.randint(2, 4)):
        vals = [rng.randint(5, 40) for _ in cats]
        ax.bar(cats, vals, bottom=bottom, label=f"Series {s + 1}")
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.legend()


def line(ax, rng):
    xs = YEARS[: rng.randint(6, 12)]
    for s in range(rng.randint(1, 3)):
        ax.plot(xs, [rng.uniform(10, 90) for _ in xs], marker="o", label=f"Series {s + 1}")
    ax.legend()
    ax.set_xlabel("Year")


def area(ax, rng):
    xs = list(range(rng.randint(6, 12)))
    ax.fill_between(xs, [rng.uniform(10, 90) for _ in xs], alpha=0.6)
    ax.set_xticks(xs, YEARS[: len(xs)])


def scatter(ax, rng):
    n = rng.randint(20, 60)
    ax.scatter([rng.gauss(50, 15) for _ in range(n)], [rng.gauss(50, 15) for _ in range(n)])
    ax.set_xlabel("X")
    ax.set_ylabel("Y")


def pie(ax, rng):
    cats = labels(rng, rng.randint(3, 7))
    ax.pie([rng.randint(5, 50) for _ in cats], labels=cats, autopct="%1.0f%%")


def histogram(ax, rng):
    ax.hist([rng.gauss(50, 12) for _ in range(rng.randint(100, 400))], bins=rng.randint(6, 12),
            edgecolor="black")


def box(ax, rng):
    cats = labels(rng, rng.randint(3, 6))
    ax.boxplot([[rng.gauss(50, 10) for _ in range(30)] for _ in cats], tick_labels=cats)


def heatmap(ax, rng):
    rows, cols = labels(rng, rng.randint(3, 6)), YEARS[: rng.randint(3, 7)]
    grid = [[rng.randint(0, 99) for _ in cols] for _ in rows]
    ax.imshow(grid, cmap="viridis")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    for i, r in enumerate(grid):
        for j, v in enumerate(r):
            ax.text(j, i, str(v), ha="center", va="center", color="white")


KINDS = {
    "bar_chart": bar,
    "stacked_bar_chart": stacked_bar,
    "line_chart": line,
    "area_chart": area,
    "scatter_plot": scatter,
    "pie_chart": pie,
    "histogram": histogram,
    "box_plot": box,
    "heatmap": heatmap,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--size", default="800x600", help="pixels, WxH")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    print(f"matplotlib {matplotlib.__version__} (Agg), {args.count} charts per kind, {w}x{h} px, "
          "1 thread, draw + savefig(png)")
    total_n, total_t = 0, 0.0
    for name, draw in KINDS.items():
        rng = random.Random(7)
        size = 0
        start = time.perf_counter()
        for i in range(args.count):
            fig, ax = plt.subplots(figsize=(w / 100, h / 100), dpi=100)
            draw(ax, rng)
            ax.set_title(f"{name.replace('_', ' ').title()} {i}")
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            plt.close(fig)
            size += buf.tell()
        t = time.perf_counter() - start
        total_n, total_t = total_n + args.count, total_t + t
        print(f"  {name:<18} {args.count / t:7.1f} charts/s  {size / args.count / 1024:6.1f} KiB/png")
    print(f"  {'all charts':<18} {total_n / total_t:7.1f} charts/s")


if __name__ == "__main__":
    main()
