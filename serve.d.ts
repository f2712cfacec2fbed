// For TypeScript's `moduleResolution: node10` (what `module: commonjs` implies), which ignores package.json
// `exports`: `two-stage-retriever/serve` resolves to this file. Node.js and newer resolutions use `exports`.
export * from "./dist/serve.js";
