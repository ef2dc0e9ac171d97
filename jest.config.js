/** Jest runs TypeScript and the ESM-only dependencies (aedes, lowdb, steno, cockatiel) through SWC into CommonJS. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['/node_modules/(?!(aedes|lowdb|steno|cockatiel)/)'],
  testTimeout: 60000,
  maxWorkers: 2,
};
