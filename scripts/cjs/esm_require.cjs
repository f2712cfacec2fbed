"use strict";
// Copied into dist/ by scripts/build_cjs.mjs: the CommonJS build loads ESM-only dependencies (@xenova/transformers
// 2.17) with require(), which Node.js supports from 20.19 and 22.12 (require of ES modules). On an older Node.js,
// say so and what to do instead of Node's generic ERR_REQUIRE_ESM.
const { TwoStageError } = require("./errors.cjs");

exports.requireEsm = function requireEsm(id) {
  try {
    return require(id);
  } catch (error) {
    if (error && error.code === "ERR_REQUIRE_ESM") {
      throw new TwoStageError(
        `two-stage-retriever's CommonJS build loads ${id}, an ES module, with require(), which this Node.js ` +
          `(${process.version}) does not allow. Use Node.js >= 20.19 or >= 22.12 without --no-experimental-require-module, ` +
          `or load two-stage-retriever with import (ESM) instead of require.`,
        { cause: error },
      );
    }
    throw error;
  }
};
