/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }] },
  // ESM-only packages (openid-client and its jose/oauth4webapi) are transformed to CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(oidc-provider|openid-client|oauth4webapi|jose|agenda|@agendajs|koa|@koa|quick-lru|nanoid|eta)/)'],
  testTimeout: 30000,
  maxWorkers: 2,
};
