package org.postern.smtp.api;

/** qpsmtpd's log levels, most verbose first. */
public enum LogLevel {
    DEBUG, INFO, NOTICE, WARN, ERROR, CRIT, ALERT, EMERG
}
