/** @jest-config-loader esbuild-register */
import type { Config } from "jest";

// Two projects, one run: `npm test` runs both (what CI runs and the README names); `npm run test:unit` runs the fast
// in-process suites while developing (tiny models the tests build, in-process FAISS), `npm run test:int` the rest.
// `*.int.test.ts`: real model weights, Postgres (PGlite in a child process), child processes (the CLI, crash and
// native-abort checks, setup scripts), worker threads.
type ProjectConfig = Exclude<NonNullable<Config["projects"]>[number], string>;

const shared: ProjectConfig = {
  testEnvironment: "<rootDir>/__tests__/support/onnx_environment.cjs",
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
};

const config: Config = {
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", "\\.int\\.test\\.ts$"],
    },
    { ...shared, displayName: "int", testMatch: ["<rootDir>/__tests__/**/*.int.test.ts"] },
  ],
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
