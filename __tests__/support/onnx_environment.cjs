// Jest runs each test file in its own VM realm, so `new Float32Array()` inside a test is not an instance of the
// Float32Array that onnxruntime-node checks against ("A float32 tensor's data must be type of Float32Array").
// Handing the test realm the outer realm's typed-array constructors makes tensors built in tests acceptable to
// ONNX Runtime (transformers.js issue #57): that is the published `two-stage-retriever/jest-environment`, extended.
// Each test file also gets its own (initially missing) default model directory, so models imported on this machine
// (`npm run models:fetch`, `two-stage models import`) never change what a test loads; the directory the tests would
// otherwise have used stays readable as TWO_STAGE_MODEL_DIR_OUTSIDE_TESTS. Everything else is jest's stock Node
// environment.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
// The typed-array part is the package's published environment (`two-stage-retriever/jest-environment`).
const TwoStageJestEnvironment = require("../../src/testing/jest_environment.cjs");

class OnnxFriendlyEnvironment extends TwoStageJestEnvironment {
  constructor(config, context) {
    super(config, context);
    const env = this.global.process.env;
    if (env.TWO_STAGE_MODEL_DIR) env.TWO_STAGE_MODEL_DIR_OUTSIDE_TESTS = env.TWO_STAGE_MODEL_DIR;
    this.modelDir = path.join(
      os.tmpdir(),
      `two-stage-test-models-${process.pid}-${crypto.randomBytes(4).toString("hex")}`,
    );
    env.TWO_STAGE_MODEL_DIR = this.modelDir;
  }

  async teardown() {
    // Only the folder made for this test file (its name is random and ours).
    fs.rmSync(this.modelDir, { recursive: true, force: true });
    await super.teardown();
  }
}

module.exports = OnnxFriendlyEnvironment;
