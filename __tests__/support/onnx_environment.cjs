// Jest runs each test file in its own VM realm, so `new Float32Array()` inside a test is not an instance of the
// Float32Array that onnxruntime-node checks against ("A float32 tensor's data must be type of Float32Array").
// Handing the test realm the outer realm's typed-array constructors makes tensors built in tests acceptable to
// ONNX Runtime (transformers.js issue #57). Everything else is jest's stock Node environment.
const { TestEnvironment } = require("jest-environment-node");

const SHARED_CONSTRUCTORS = [
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
];

class OnnxFriendlyEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_CONSTRUCTORS) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxFriendlyEnvironment;
