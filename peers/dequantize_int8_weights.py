"""Rewrite a dynamic-int8 ONNX BERT (MatMulInteger + DynamicQuantizeLinear) into fp32 MatMuls over its int8 weights
dequantized: activations stay fp32, the weights keep their int8 rounding. Used in docs/quality.md ("Is it the int8
file?") as the nearest stand-in for an fp32 export that no registry here ships.

    python3 -m venv /tmp/venv-dq && /tmp/venv-dq/bin/pip install -r peers/requirements-dequantize.txt
    /tmp/venv-dq/bin/python peers/dequantize_int8_weights.py <model_quantized.onnx> <out>/model.onnx
    npx two-stage models import <out> --id local/ms-marco-MiniLM-L-12-v2-dequantized   # with the tokenizer files

The embedding tables (DequantizeLinear after Gather) are left as they are.
"""
import sys, onnx, numpy as np
from onnx import numpy_helper, helper
src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
g = m.graph
init = {i.name: i for i in g.initializer}
producer = {o: n for n in g.node for o in n.output}
consumers = {}
for n in g.node:
    for x in n.input: consumers.setdefault(x, []).append(n)
remove, new_inits, repl = set(), [], {}
for n in g.node:
    if n.op_type != 'MatMulInteger': continue
    a_q, b_q, a_zp, b_zp = n.input
    dql = producer[a_q]; assert dql.op_type == 'DynamicQuantizeLinear'
    a_fp = dql.input[0]
    base = b_q[:-len('_quantized')]
    wq = numpy_helper.to_array(init[b_q]).astype(np.float32)
    zp = numpy_helper.to_array(init[b_zp]).astype(np.float32)
    sc = numpy_helper.to_array(init[base + '_scale']).astype(np.float32)
    w = (wq - zp) * sc
    wname = base + '_dequantized'
    new_inits.append(numpy_helper.from_array(w.astype(np.float32), wname))
    cast = consumers[n.output[0]][0]; assert cast.op_type == 'Cast'
    mul = consumers[cast.output[0]][0]; assert mul.op_type == 'Mul'
    remove |= {id(n), id(cast), id(mul)}
    repl[id(mul)] = helper.make_node('MatMul', [a_fp, wname], [mul.output[0]], name=n.name + '_fp32')
nodes = []
for n in g.node:
    if id(n) in repl: nodes.append(repl[id(n)])
    elif id(n) not in remove: nodes.append(n)
# drop dead nodes
needed = {o.name for o in g.output}
keep = []
for n in reversed(nodes):
    if any(o in needed for o in n.output):
        keep.append(n); needed |= set(n.input)
keep.reverse()
del g.node[:]; g.node.extend(keep)
g.initializer.extend(new_inits)
used = {x for n in g.node for x in n.input}
kept = [i for i in g.initializer if i.name in used]
del g.initializer[:]; g.initializer.extend(kept)
onnx.checker.check_model(m)
onnx.save(m, dst)
import collections; print(collections.Counter(n.op_type for n in g.node))
