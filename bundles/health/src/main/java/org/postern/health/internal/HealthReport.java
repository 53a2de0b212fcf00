package org.postern.health.internal;

import java.util.ArrayList;
import java.util.List;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;

/**
 * What /health answers: the HTTP status for the worst result, and one line per check, {@code STATUS name: messages}.
 *
 * @param status 200 when every check is OK, {@code warnStatus} when the worst is WARN, 503 otherwise and when no
 *     check ran at all
 */
record HealthReport(int status, String body) {
    static final int OK = 200;
    static final int UNAVAILABLE = 503;

    static HealthReport of(List<HealthCheckExecutionResult> results, int warnStatus) {
        Result.Status worst = null;
        StringBuilder body = new StringBuilder();
        for (HealthCheckExecutionResult executed : results) {
            Result result = executed.getHealthCheckResult();
            if (worst == null || result.getStatus().ordinal() > worst.ordinal()) {
                worst = result.getStatus();
            }
            body.append(result.getStatus()).append(' ').append(executed.getHealthCheckMetadata().getName()).append(": ")
                    .append(messages(result)).append('\n');
        }
        if (worst == null) {
            return new HealthReport(UNAVAILABLE, "CRITICAL no health check tagged " + HealthSettings.TAG + " is registered\n");
        }
        return new HealthReport(status(worst, warnStatus), body.toString());
    }

    static int status(Result.Status worst, int warnStatus) {
        return switch (worst) {
            case OK -> OK;
            case WARN -> warnStatus;
            case TEMPORARILY_UNAVAILABLE, CRITICAL, HEALTH_CHECK_ERROR -> UNAVAILABLE;
        };
    }

    /** The entries that are not debug output, on one line: a check's report must not break the one-line-per-check form. */
    private static String messages(Result result) {
        List<String> messages = new ArrayList<>();
        for (ResultLog.Entry entry : result) {
            if (!entry.isDebug()) {
                messages.add(entry.getMessage().replaceAll("[\\r\\n]+", " "));
            }
        }
        return String.join("; ", messages);
    }
}
