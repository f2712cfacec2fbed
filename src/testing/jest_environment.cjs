"use strict";
// `two-stage-retriever/jest-environment`: Jest's Node environment, with the outer realm's typed arrays.
//
// Jest runs each test file in a VM realm of its own: an array ONNX Runtime returns (made in the outer realm) is not an
// instance of the test realm's Float32Array, and a tensor built from it is refused ("A float32 tensor's data must be
// type of function Float32Array()"; transformers.js issue #57). Handing the test realm the outer realm's typed-array
// constructors makes both the same. Use it in jest.config: `testEnvironment: "two-stage-retriever/jest-environment"`
// (CommonJS and ES module projects alike; Jest loads environments with require). It needs jest-environment-node,
// which Jest installs.
let TestEnvironment;
try {
  ({ TestEnvironment } = require("jest-environment-node"));
} catch (error) {
  throw new Error(
    "two-stage-retriever/jest-environment extends jest-environment-node, which is not installed here. Install it " +
      "beside jest (npm install -D jest-environment-node@<your jest major>).",
    { cause: error },
  );
}

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

class TwoStageJestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_CONSTRUCTORS) this.global[name] = globalThis[name];
  }
}

module.exports = TwoStageJestEnvironment;
module.exports.TestEnvironment = TwoStageJestEnvironment;
module.exports.SHARED_CONSTRUCTORS = SHARED_CONSTRUCTORS;
