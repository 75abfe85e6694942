"""Drawing graphs: DOT text checked structurally, SVG from the pure-Python layout, PNG, errors."""

import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import adjoint as ad
from adjoint.graph import MAX_DRAWN_NODES, drawing

SVG = "{http://www.w3.org/2000/svg}"


def classic():
    x1 = ad.Tensor(2.0, name="x1")
    x2 = ad.Tensor(5.0, name="x2")
    return x1, x2, ad.log(x1) + x1 * x2 - ad.sin(x2)


def parse_dot(text):
    nodes = dict(re.findall(r"^\s+(n\d+) \[(.*)\];$", text, re.M))
    edges = re.findall(r"^\s+n(\d+) -> n(\d+)", text, re.M)
    return nodes, {(int(a), int(b)) for a, b in edges}


@pytest.fixture
def no_dot(monkeypatch):
    monkeypatch.setattr(drawing, "_dot_program", lambda: None)


def test_dot_of_a_small_graph_has_its_nodes_and_edges():
    x1, x2, y = classic()
    g = ad.Graph(y)
    text = g.to_dot()
    assert text.startswith("digraph adjoint {") and text.endswith("}")
    nodes, edges = parse_dot(text)
    assert sorted(nodes) == sorted(f"n{i}" for i in range(8))
    # n0 x1, n1 log, n2 x2, n3 mul, n4 add, n5 sin, n6 negate, n7 add
    assert edges == {(0, 1), (0, 3), (2, 3), (1, 4), (3, 4), (2, 5), (5, 6), (4, 7), (6, 7)}
    assert 'label="v1: x1\\nscalar"' in nodes["n0"] and "shape=ellipse" in nodes["n0"]
    assert 'label="v3: Log\\nscalar"' in nodes["n1"] and "shape=box" in nodes["n1"]
    assert "peripheries=2" in nodes["n7"]
    assert sum("peripheries" in attrs for attrs in nodes.values()) == 1
    assert "cluster_legend" not in text  # forward only: no order legend
    assert g.to_dot() == text  # pure: same text again


def test_dot_marks_constants_input_order_and_derivative_orders():
    x = ad.Tensor([1.0, 2.0], name="x")
    y = ad.sum(x * x / ad.Tensor([3.0, 4.0], requires_grad=False))
    y.backward()
    text = ad.Graph(y, x.grad).to_dot(values=True)
    nodes, edges = parse_dot(text)
    constants = [a for a in nodes.values() if "dashed" in a]
    assert constants and all("shape=ellipse" in a for a in constants)
    assert re.search(r'-> n\d+ \[label="0"', text) and re.search(r'-> n\d+ \[label="1"', text)
    assert drawing.order_colour(1) in text and "cluster_legend" in text
    assert "1.333" in text and "[0.667,1.]" in text  # values shown


def test_svg_from_the_python_layout_is_valid_and_complete(no_dot):
    x1, x2, y = classic()
    y.backward()
    g = ad.Graph(y, x1.grad, x2.grad)
    root = ET.fromstring(g.to_svg())
    assert root.tag == SVG + "svg"
    node_group = root.find(f"{SVG}g[@class='nodes']")
    shapes = [el for el in node_group.iter() if el.tag in (SVG + "rect", SVG + "ellipse")]
    assert len(shapes) == len(g) + len(g.outputs)  # outputs get a second border
    edges = root.find(f"{SVG}g[@class='edges']").findall(f"{SVG}path")
    assert len(edges) == sum(len(n.inputs) for n in g)
    texts = " ".join(t.text for t in root.iter(SVG + "text"))
    assert "v1: x1" in texts and "v3: const" in texts
    assert "op, derivative order 1" in texts and "variable (requires grad)" in texts
    assert drawing.order_colour(1) in ET.tostring(root, encoding="unicode")


def test_layout_has_no_overlaps_and_edges_point_down(no_dot):
    x = ad.Tensor(0.3)
    d = ad.tanh(x) * ad.exp(x) if hasattr(ad, "tanh") else ad.sin(x) * ad.exp(x)
    for _ in range(3):
        d.backward()
        d = x.grad
    g = ad.Graph(d)
    lay = drawing.layout(g)
    assert len(lay.boxes) == len(g)
    rows = {}
    for box in lay.boxes:
        rows.setdefault(box.y, []).append(box)
    for row in rows.values():
        row.sort(key=lambda b: b.x)
        for a, b in zip(row, row[1:]):
            assert a.x + a.w / 2 <= b.x - b.w / 2 + 1e-6
    for points, _ in lay.edges:
        assert all(p[1] < q[1] for p, q in zip(points, points[1:]))
    assert all(b.x - b.w / 2 >= 0 and b.x + b.w / 2 <= lay.width for b in lay.boxes)


def test_notebook_display(no_dot):
    x1, x2, y = classic()
    svg = ad.Graph(y)._repr_svg_()
    assert ET.fromstring(svg).tag == SVG + "svg"
    chain = x1
    for _ in range(MAX_DRAWN_NODES):
        chain = chain * 1.5
    assert ad.Graph(chain)._repr_svg_() is None  # too big to draw: shown as text


def test_render_svg_dot_and_png(tmp_path, no_dot):
    x1, x2, y = classic()
    g = ad.Graph(y)
    svg = g.render(str(tmp_path / "g.svg"), values=True)
    root = ET.parse(svg).getroot()
    assert "11.65" in " ".join(t.text for t in root.iter(SVG + "text"))
    assert (tmp_path / "g.dot").exists() is False
    g.render(str(tmp_path / "g.dot"))
    assert (tmp_path / "g.dot").read_text() == g.to_dot()
    pytest.importorskip("matplotlib")
    g.render(str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_errors_say_what_to_do(tmp_path, no_dot, monkeypatch):
    x1, x2, y = classic()
    g = ad.Graph(y)
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.dot"):
        g.render(str(tmp_path / "g.jpg"))
    with pytest.raises(RuntimeError, match="dot program is not installed.*engine='python'"):
        g.to_svg(engine="dot")
    with pytest.raises(ValueError, match="engine must be"):
        g.to_svg(engine="neato")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(RuntimeError, match="pip install matplotlib"):
        g.render(str(tmp_path / "g.png"))


def test_dot_is_used_where_installed(tmp_path, monkeypatch):
    calls = []

    def fake_dot(text, fmt):
        calls.append((text, fmt))
        return b'<svg xmlns="http://www.w3.org/2000/svg"/>' if fmt == "svg" else b"PNG"

    monkeypatch.setattr(drawing, "_dot_program", lambda: "/usr/bin/dot")
    monkeypatch.setattr(drawing, "_run_dot", fake_dot)
    x1, x2, y = classic()
    g = ad.Graph(y)
    assert g.to_svg() == '<svg xmlns="http://www.w3.org/2000/svg"/>'
    g.render(str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").read_bytes() == b"PNG"
    assert [fmt for _, fmt in calls] == ["svg", "png"] and calls[0][0] == g.to_dot()
    assert "<rect" in g.to_svg(engine="python")


def test_lazy_nodes_draw_without_being_computed(no_dot):
    with ad.lazy_mode():
        x = ad.Tensor(np.ones(3), name="x")
        y = ad.exp(x).sum()
    g = ad.Graph(y)
    svg = g.to_svg(values=True)
    assert "not computed" in svg and y.cached_data is None


# ------------------------------------------------------------ size and cost


def chain_with_gradient(steps):
    """The shape that made drawing quadratic: every forward node feeds a backward node far below."""
    x = ad.Tensor(0.3, name="x")
    h = x
    for _ in range(steps):
        h = ad.sin(h) * 1.0001
    h.backward()
    return ad.Graph(h, x.grad)


def wide_sum(terms):
    """x feeding ``terms`` branches sin(x * c), summed by a chain of additions."""
    x = ad.Tensor(0.3, name="x")
    parts = [ad.sin(x * float(c + 1)) for c in range(terms)]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return ad.Graph(total)


def mul_chain(n):
    """A graph of exactly n nodes: a leaf and n - 1 MulScalar nodes."""
    h = ad.Tensor(1.0, name="x")
    for _ in range(n - 1):
        h = h * 1.5
    return ad.Graph(h)


def test_a_picture_above_max_nodes_is_refused_with_a_way_to_draw_a_part(tmp_path, no_dot):
    g = mul_chain(MAX_DRAWN_NODES + 1)
    for draw in (
        lambda: g.render(str(tmp_path / "g.svg")),
        lambda: g.render(tmp_path / "g.png"),
        lambda: g.to_svg(),
        lambda: drawing.to_svg(g, engine="python"),
        lambda: drawing.layout(g),
    ):
        with pytest.raises(drawing.GraphTooLargeError) as info:
            draw()
        message = str(info.value)
        assert f"the graph has {MAX_DRAWN_NODES + 1} nodes, more than max_nodes=400" in message
        for hint in ("ad.Graph(node)", "ad.simplify", "'g.dot'", "max_nodes=401", "max_nodes=None"):
            assert hint in message, hint
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "g.svg").exists() and not (tmp_path / "g.png").exists()
    # the override, and DOT text at any size
    root = ET.parse(g.render(str(tmp_path / "g.svg"), max_nodes=MAX_DRAWN_NODES + 1)).getroot()
    assert len(root.find(f"{SVG}g[@class='nodes']").findall(f"{SVG}g")) == len(g)
    assert ET.fromstring(g.to_svg(max_nodes=None)).tag == SVG + "svg"
    assert len(drawing.layout(g, max_nodes=None).boxes) == len(g)
    assert g.render(str(tmp_path / "g.dot")) and (tmp_path / "g.dot").read_text() == g.to_dot()
    # a part of the graph draws with the default limit
    part = ad.Graph(g.nodes[MAX_DRAWN_NODES - 1])
    assert len(part) == MAX_DRAWN_NODES and ET.fromstring(part.to_svg()).tag == SVG + "svg"


def test_the_limit_is_the_notebook_display_limit(no_dot):
    for n in (MAX_DRAWN_NODES, MAX_DRAWN_NODES + 1):
        g = mul_chain(n)
        shown = g._repr_svg_() is not None
        try:
            g.to_svg()
            drawn = True
        except drawing.GraphTooLargeError:
            drawn = False
        assert shown == drawn == (n <= MAX_DRAWN_NODES)


def test_graphviz_is_not_asked_for_a_picture_above_max_nodes(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(drawing, "_dot_program", lambda: "/usr/bin/dot")
    monkeypatch.setattr(drawing, "_run_dot", lambda text, fmt: calls.append(fmt) or b"<svg/>")
    g = mul_chain(MAX_DRAWN_NODES + 1)
    with pytest.raises(drawing.GraphTooLargeError):
        g.to_svg()
    with pytest.raises(drawing.GraphTooLargeError):
        g.render(str(tmp_path / "g.png"))
    assert calls == []
    assert g.to_svg(max_nodes=1000) == "<svg/>" and calls == ["svg"]


@pytest.mark.parametrize(
    "max_nodes, error",
    [(1.5, TypeError), ("400", TypeError), (True, TypeError), (-1, ValueError)],
    ids=repr,
)
def test_max_nodes_must_be_a_count_or_none(max_nodes, error, tmp_path, no_dot):
    x1, x2, y = classic()
    for name in ("g.svg", "g.dot"):
        with pytest.raises(error, match="render: max_nodes must be"):
            ad.Graph(y).render(str(tmp_path / name), max_nodes=max_nodes)
    with pytest.raises(error, match="to_svg: max_nodes must be"):
        ad.Graph(y).to_svg(max_nodes=max_nodes)
    assert not issubclass(error, drawing.GraphTooLargeError)


@pytest.mark.parametrize("make, size", [(chain_with_gradient, 150), (wide_sum, 250)])
def test_layout_cost_grows_linearly_with_the_graph(make, size):
    """Work counted, not timed: the same layout on a graph 4 times bigger does about 4 times
    the work (it did 16 times: bend points grew with the square of the size)."""
    measures = []
    for scale in (1, 4):
        g = make(size * scale)
        n, e = len(g), sum(len(node.inputs) for node in g)
        lay = drawing.layout(g, max_nodes=None)
        svg = drawing.layout_to_svg(lay)
        points = sum(len(p) for p, _ in lay.edges)
        assert len(lay.boxes) == n and len(lay.edges) == e
        assert lay.vertices <= n + drawing._bend_budget(n, e)
        assert lay.work <= 200 * (n + e) and points <= 10 * (n + e)
        assert len(svg) <= 1_500 * n  # bytes: memory is bounded with the output
        measures.append((n, lay.work, points, len(svg)))
    (n1, *small), (n4, *big) = measures
    assert n4 > 3.5 * n1 and n4 > 2_500
    for a, b in zip(small, big):
        assert b / a <= 6 * n4 / (4 * n1)  # linear: 4; quadratic: 16


def test_a_large_layout_is_still_well_formed(no_dot):
    g = chain_with_gradient(600)  # 3,001 nodes
    lay = drawing.layout(g, max_nodes=None)
    assert lay.express  # the longest edges are drawn without bend points
    spans = [len(points) for points, _ in lay.edges]
    assert all(spans[e] == 4 for e in lay.express)
    rows = {}
    for box in lay.boxes:
        rows.setdefault(box.y, []).append(box)
    for row in rows.values():
        row.sort(key=lambda b: b.x)
        for a, b in zip(row, row[1:]):
            assert a.x + a.w / 2 <= b.x - b.w / 2 + 1e-6
    for points, _ in lay.edges:
        assert all(p[1] < q[1] for p, q in zip(points, points[1:]))
    svg = drawing.layout_to_svg(lay)
    assert svg.count(f'stroke="{drawing._EXPRESS_COLOUR}"') == len(lay.express)
    ET.fromstring(svg)


def test_graphs_of_a_few_hundred_nodes_keep_every_bend_point(no_dot):
    def f(t):
        return ad.tanh(t) * ad.exp(-(t**2))

    x = ad.Tensor(0.5, name="x")
    for _ in range(5):
        f = ad.grad(f)
    g = ad.Graph(f(x))
    assert len(g) <= MAX_DRAWN_NODES
    lay = drawing.layout(g)
    assert lay.express == [] and lay.vertices > len(g)
