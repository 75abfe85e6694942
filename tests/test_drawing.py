"""Drawing graphs: DOT text checked structurally, SVG from the pure-Python layout, PNG, errors."""

import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import adjoint as ad
from adjoint import drawing
from adjoint.graph import MAX_DRAWN_NODES

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
