export { passwordResetRouter, redactResetPath } from './password-reset.routes';
export { requestPasswordReset, completePasswordReset, findUsableLink, settleResetMails, hashToken, MAX_LINKS_PER_HOUR } from './password-reset.service';
export { ResetToken, RESET_TOKEN_MINUTES } from './reset-token.model';
