"""``report.html``: one self-contained page (inline CSS, PNGs referenced by file name)."""

import html

__all__ = ["render"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 21px; margin-top: 40px; border-bottom: 2px solid #1f3b73; padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 24px; color: #1f3b73; }
.sub { color: #666; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { background: #f3f6fb; border: 1px solid #dde4f0; border-radius: 6px; padding: 8px 14px;
        min-width: 110px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .k { font-size: 12px; color: #555; }
.figs { display: flex; flex-wrap: wrap; gap: 18px; }
figure { margin: 0; flex: 0 1 calc(50% - 9px); min-width: 420px; }
figure.wide { flex-basis: 100%; }
figure img { width: 100%; border: 1px solid #eee; }
figure.wide img { width: auto; max-width: 100%; }
figcaption { font-size: 13px; color: #444; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
th { background: #f3f6fb; }
td.l, th.l { text-align: left; }
.note { background: #fff8e5; border-left: 4px solid #e0b000; padding: 6px 12px; font-size: 13px; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
details { margin-top: 10px; }
"""


WIDE = " class='wide'"


def _e(x):
    return html.escape(str(x))


def _num(x, digits=4):
    if x is None:
        return "&ndash;"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return _e(x)


def _cards(s):
    items = [("cells", s["n_cells"]), ("walls", s["n_walls"]), ("hinges", s["n_hinges"]),
             ("volume sum", _num(s["volume_sum"], 8)),
             ("domain volume", _num(s["domain"]["volume"], 8)),
             ("Betti numbers", "(" + ", ".join(map(str, s["betti_numbers"])) + ")"),
             ("first nonzero eigenvalue", _num(_first_nonzero(s))),
             (f"median curvature ({s['curvature']['kind']})", _num(s["curvature"].get("q50")))]
    if "data_cells" in s:
        items.append(("data cells", s["data_cells"]["n_cells"]))
    return "<div class='cards'>" + "".join(
        f"<div class='card'><div class='v'>{v}</div><div class='k'>{_e(k)}</div></div>"
        for k, v in items) + "</div>"


def _first_nonzero(s):
    w = s["smallest_eigenvalues"].get("Delta_0", [])
    top = max([abs(v) for v in w] + [1.0])
    nz = [v for v in w if abs(v) > 1e-8 * top]
    return nz[0] if nz else None


def _worst_table(rows):
    if not rows:
        return "<p>No cell stands out.</p>"
    head = ("<tr><th class='l'>reason</th><th>cell</th><th>volume</th><th>quality q</th>"
            "<th>min hinge angle (deg)</th><th>curvature</th><th class='l'>centroid</th></tr>")
    body = "".join(
        f"<tr><td class='l'>{_e(r['reason'])}</td><td>{r['cell']}</td><td>{_num(r['volume'])}</td>"
        f"<td>{_num(r['quality'])}</td><td>{_num(r['min_angle_deg'], 3)}</td>"
        f"<td>{_num(r['curvature'])}</td>"
        f"<td class='l'>({', '.join(f'{c:.3g}' for c in r['centroid'])})</td></tr>"
        for r in rows)
    return f"<table>{head}{body}</table>"


def _curv_table(s):
    c = s["curvature"]
    keys = [k for k in c if k.startswith("q")]
    return ("<table><tr><th class='l'>quantile</th>" + "".join(f"<th>{_e(k[1:])}%</th>" for k in keys)
            + "</tr><tr><td class='l'>curvature</td>" + "".join(f"<td>{_num(c[k])}</td>" for k in keys)
            + "</tr></table>")


def _dims(s):
    d = s.get("input_ndim", s["ndim"])
    if d == s["ndim"]:
        return f"{d}-D input"
    return f"{d}-D input, shown on an exact {s['ndim']}-D slice through the data (slice coordinates)"


def _section(s, figs):
    betti_note = ""
    if s["nerve_truncated"]:
        betti_note = (f"<p class='note'>The nerve is cut at degree {len(s['nerve_f_vector']) - 1} "
                      "and some points lie on more cells than that, so only the Betti numbers "
                      "below the top degree are certified and shown. By the nerve theorem the "
                      "full nerve of a convex domain has Betti numbers (1, 0, 0, ...).</p>")
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in s.get("notes", []))
    sp = s["spline"]
    lp = ""
    if "layer_profile" in s:
        lp = ("<h3>Layer profile</h3><p>Collapsed cells per layer: "
              + ", ".join(map(str, s["layer_profile"]["collapsed_cells"])) + ".</p>")
    rg = ""
    if "regularizers" in s:
        r = s["regularizers"]
        rg = ("<h3>Geometric regularizers (SPEC 10)</h3><p>Values of the penalties on this "
              "partition (each with an exact gradient in <code>geomcore.regularizers</code>):</p>"
              "<table><tr>" + "".join(f"<th>{_e(k.replace('_', ' '))}</th>" for k in r)
              + "</tr><tr>" + "".join(f"<td>{_num(v)}</td>" for v in r.values())
              + "</tr></table><p>small cells: cells below a tenth of the mean volume; boundary: "
              "the total wall area; sharp angles: hinge angles below 30 degrees; shape quality: "
              "the sum of <code>q - 1</code> over the cells.</p>")
    dc = ""
    if "data_cells" in s:
        d = s["data_cells"]
        dc = (f"<h3>Data cells</h3><p>{d['n_points']} points fall in {d['n_cells']} distinct "
              f"activation regions; {d['singletons']} of them hold a single point, the fullest "
              f"holds {d['max_count']}.</p>")
    wide = ("_spline.png", "_spectrum.png", "_layers.png", "_distributions.png")
    fig_html = "".join(
        f"<figure{WIDE if f.endswith(wide) else ''}><img src='{_e(f)}' "
        f"alt='{_e(f)}'><figcaption>{_e(c)}</figcaption></figure>"
        for f, c in figs)
    t = s["timings_s"]
    return f"""
<h2 id='{_e(s['name'])}'>{_e(s['title'])}</h2>
<p class='sub'>{_dims(s)}, domain [{', '.join(f'{v:.3g}' for v in s['domain']['lo'])}] to
[{', '.join(f'{v:.3g}' for v in s['domain']['hi'])}]; {s['n_points']} points; spline target:
{_e(s['target'])}.</p>
{_cards(s)}
{notes}
{betti_note}
<div class='figs'>{fig_html}</div>
<h3>Curvature</h3>
{_curv_table(s)}
<h3>Spline refinement</h3>
<p>Mean squared error on the points: {_num(sp['mse_cell_means'])} with the per-cell means,
{_num(sp['mse_spline'])} with the spline (which smooths across walls, so it gives up a little
fit on the data); {sp['empty_cells_filled']} cells without data were filled in.</p>
{rg}{lp}{dc}
<h3>Most problematic cells</h3>
<p>Slivers have a large isoperimetric quality <code>q = perimeter^d / (vol^(d-1) q_ball)</code>
(1 for a ball); sharp angles are the smallest dihedral angles at hinges; curvature is the
cell's {s['curvature']['kind']} curvature.</p>
{_worst_table(s['worst_cells'])}
<details><summary>Timings (s)</summary><p>{_e(', '.join(f'{k} {v:.3g}' for k, v in t.items()))}</p>
</details>
"""


def render(summaries, figures, *, version):
    """The HTML page for a list of subject summaries and, per subject, its (file, caption)s."""
    toc = "".join(f"<li><a href='#{_e(s['name'])}'>{_e(s['title'])}</a></li>" for s in summaries)
    body = "".join(_section(s, f) for s, f in zip(summaries, figures))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="geomcore {_e(version)}">
<title>geomcore report</title><style>{_CSS}</style></head>
<body>
<h1>geomcore report</h1>
<p class='sub'>The exact cells a model cuts its input space into, with their walls, the nerve
complex, its Laplacian spectrum, curvature and a spline refinement. Numbers are in
<code>summary.json</code>. geomcore {_e(version)}.</p>
<ul>{toc}</ul>
<p><b>Linear regions</b> here are activation regions (networks: one cell per activation pattern;
neighbours with the same affine map are not merged), leaves (trees) or argmax regions
(linear models).</p>
{body}
</body></html>
"""
