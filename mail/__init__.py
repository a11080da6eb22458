"""E-mail: the port, a local outbox, SMTP (aiosmtplib) and Mailgun's HTTP API.

Task handlers see `MailService` (the port and the unsubscribe links) only; the app
factory picks the adapter from settings (`mail.wiring.mail_from_settings`).
"""

from mail.port import SENT, MailMessage, MailResult, MailSender, Status

__all__ = ["SENT", "MailMessage", "MailResult", "MailSender", "Status"]
