/** @jest-config-loader esbuild-register */
import type { Config } from "jest";

const config: Config = {
  testEnvironment: "<rootDir>/__tests__/support/onnx_environment.cjs",
  testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: {
    // The examples import the package by name, as users do; under test that name is the sources.
    "^two-stage-retriever$": "<rootDir>/src/index.ts",
    "^two-stage-retriever/testing$": "<rootDir>/src/testing/index.ts",
    // Sources import local files with the `.js` extension (ESM); map them back to the `.ts` files under test.
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true }],
  },
  // Model loading and native index builds take a few seconds on 2 cores; keep the defaults honest, not flaky.
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
