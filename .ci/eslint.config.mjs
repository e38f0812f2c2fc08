// ESLint flat config for the browser modules (src/http/console, src/http/api_docs, client), run by .ci/run
// with a pinned ESLint (`npx --yes eslint@9.39.5`). It imports nothing, so it needs no
// package.json or node_modules: the rules below are `eslint:recommended` of ESLint 9.39
// written out, plus a few that catch what a page without a build step would only find at
// run time (a name used but never imported, an import left unused).

/** What the page may use besides the language's own built-ins (ecmaVersion: latest). */
const browserGlobals = Object.fromEntries(
  [
    "AbortController",
    "atob",
    "BroadcastChannel",
    "clearInterval",
    "clearTimeout",
    "console",
    "CSS",
    "document",
    "EventSource",
    "fetch",
    "history",
    "location",
    "navigator",
    "Node",
    "queueMicrotask",
    "sessionStorage",
    "setInterval",
    "setTimeout",
    "TextDecoderStream",
    "TextEncoder",
    "URL",
    "URLSearchParams",
    "window",
  ].map((name) => [name, "readonly"]),
);

/** The client's unit tests run in Node (`node --test client/test/`). */
const nodeTestGlobals = Object.fromEntries(["performance"].map((name) => [name, "readonly"]));

const recommended = [
  "constructor-super",
  "for-direction",
  "getter-return",
  "no-async-promise-executor",
  "no-case-declarations",
  "no-class-assign",
  "no-compare-neg-zero",
  "no-cond-assign",
  "no-const-assign",
  "no-constant-binary-expression",
  "no-constant-condition",
  "no-control-regex",
  "no-debugger",
  "no-delete-var",
  "no-dupe-args",
  "no-dupe-class-members",
  "no-dupe-else-if",
  "no-dupe-keys",
  "no-duplicate-case",
  "no-empty",
  "no-empty-character-class",
  "no-empty-pattern",
  "no-empty-static-block",
  "no-ex-assign",
  "no-extra-boolean-cast",
  "no-fallthrough",
  "no-func-assign",
  "no-global-assign",
  "no-import-assign",
  "no-invalid-regexp",
  "no-irregular-whitespace",
  "no-loss-of-precision",
  "no-misleading-character-class",
  "no-new-native-nonconstructor",
  "no-nonoctal-decimal-escape",
  "no-obj-calls",
  "no-octal",
  "no-prototype-builtins",
  "no-redeclare",
  "no-regex-spaces",
  "no-self-assign",
  "no-setter-return",
  "no-shadow-restricted-names",
  "no-sparse-arrays",
  "no-this-before-super",
  "no-undef",
  "no-unexpected-multiline",
  "no-unreachable",
  "no-unsafe-finally",
  "no-unsafe-negation",
  "no-unsafe-optional-chaining",
  "no-unused-labels",
  "no-unused-private-class-members",
  "no-unused-vars",
  "no-useless-backreference",
  "no-useless-catch",
  "no-useless-escape",
  "no-with",
  "require-yield",
  "use-isnan",
  "valid-typeof",
];

export default [
  {
    files: ["src/http/console/**/*.js", "client/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: browserGlobals,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...Object.fromEntries(recommended.map((rule) => [rule, "error"])),
      // `const { dropped, ...rest } = x` is how a field is left out of a copy.
      "no-unused-vars": ["error", { ignoreRestSiblings: true }],
      // Beyond recommended: module-level mistakes a browser reports only when it runs.
      "no-implicit-globals": "error",
      "no-shadow": "error",
      "no-use-before-define": ["error", { functions: false, classes: false, variables: true }],
      "prefer-const": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    files: ["client/test/**/*.js"],
    languageOptions: { globals: { ...browserGlobals, ...nodeTestGlobals } },
  },
];
