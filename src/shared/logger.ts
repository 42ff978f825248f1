import pino from 'pino';

/** JSON logs to stdout; secrets never reach them. The level is set from config by configureLogger(). */
export const logger = pino({
  level: 'info',
  redact: {
    paths: [
      'req.headers.cookie',
      'req.headers.authorization',
      'req.headers["x-csrf-token"]',
      'res.headers["set-cookie"]',
      '*.password',
      '*.passwordHash',
      'password',
      'passwordHash',
    ],
    censor: '[redacted]',
  },
});

export function configureLogger(level: string): void {
  logger.level = level;
}
