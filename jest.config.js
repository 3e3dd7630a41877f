// Two projects: `unit` (Pulumi mocks, pure functions; seconds) and `docker`
// (real containers on the local engine; minutes). `npm test` runs both.
// Staged build contexts and compiled output hold copies of sources: never test or resolve them.
const common = { preset: "ts-jest", testEnvironment: "node", modulePathIgnorePatterns: ["<rootDir>/.drills/", "<rootDir>/dist/"] };
module.exports = {
  reporters: ["default", "<rootDir>/tests/summaryReporter.js"],
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/tests/unit/**/*.test.ts"] },
    {
      ...common,
      displayName: "docker",
      testMatch: ["<rootDir>/tests/docker/**/*.test.ts"],
      globalSetup: "<rootDir>/tests/docker/globalSetup.ts",
    },
  ],
};
