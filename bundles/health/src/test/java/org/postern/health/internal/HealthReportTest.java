package org.postern.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthReportTest {
    @ParameterizedTest
    @CsvSource({"OK, 200, 200", "OK, 503, 200", "WARN, 200, 200", "WARN, 503, 503", "TEMPORARILY_UNAVAILABLE, 200, 503",
            "CRITICAL, 200, 503", "HEALTH_CHECK_ERROR, 200, 503"})
    void theWorstResultDecidesTheStatusAndWarnIsConfigurable(Result.Status worst, int warnStatus, int expected) {
        assertEquals(expected, HealthReport.status(worst, warnStatus));
    }

    @Test
    void oneLinePerCheckWithItsMessagesAndTheWorstStatus() {
        FormattingResultLog listeners = new FormattingResultLog();
        listeners.info("default listening on 127.0.0.1:2525");
        listeners.debug("not for load balancers");
        listeners.critical("relay is not listening on\n192.0.2.1:25");
        FormattingResultLog spool = new FormattingResultLog();
        spool.warn("spool folder /var/spool/postern: 90 MB free, below spool.min.free.mb 100");
        HealthReport report = HealthReport.of(List.of(Fakes.executed("Postern listeners", new Result(listeners)),
                Fakes.executed("Postern spool", new Result(spool))), 200);
        assertEquals(503, report.status());
        assertEquals("CRITICAL Postern listeners: default listening on 127.0.0.1:2525; relay is not listening on 192.0.2.1:25\n"
                + "WARN Postern spool: spool folder /var/spool/postern: 90 MB free, below spool.min.free.mb 100\n", report.body());
    }

    @Test
    void noCheckAtAllIsUnavailable() {
        assertEquals(new HealthReport(503, "CRITICAL no health check tagged postern is registered\n"), HealthReport.of(List.of(), 200));
    }
}
