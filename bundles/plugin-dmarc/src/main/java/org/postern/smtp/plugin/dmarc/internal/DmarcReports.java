package org.postern.smtp.plugin.dmarc.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.postern.smtp.plugin.dmarc.internal.AggregateReports.Report;
import org.postern.smtp.plugin.dmarc.internal.AggregateReports.Reporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the aggregate reports of a day's records: {@code dmarc:report [yyyy-MM-dd]} in the shell (Gogo in the
 * standalone server, Karaf's shell), yesterday (UTC) by default; and, when {@code report_hour} is set, every day at
 * that hour (UTC) for the day before. Reads the plugin's configuration, whose {@code report_*} keys say who reports.
 */
@Component(service = DmarcReports.class, configurationPid = Dmarc.PID, property = {
    "osgi.command.scope=dmarc",
    "osgi.command.function=report"
})
public final class DmarcReports {
    private static final Logger LOG = LoggerFactory.getLogger(DmarcReports.class);

    private final Path recordsFolder;
    private final Dmarc.Config config;
    private final Clock clock;
    private final ScheduledExecutorService daily;

    @Activate
    public DmarcReports(Dmarc.Config config, BundleContext context) {
        this(config, Dmarc.reportFolder(config, context.getProperty("postern.data"), context.getProperty("karaf.data")),
                Clock.systemUTC());
    }

    DmarcReports(Dmarc.Config config, Path recordsFolder, Clock clock) {
        this.config = config;
        this.recordsFolder = recordsFolder;
        this.clock = clock;
        int hour = config.report__hour();
        if (hour < 0 || hour > 23) {
            if (hour != -1) {
                LOG.error("configuration {}: key 'report_hour' is an hour from 0 to 23, or -1, not {}; no daily reports", Dmarc.PID, hour);
            }
            this.daily = null;
            return;
        }
        this.daily = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "postern-dmarc-reports");
            thread.setDaemon(true);
            return thread;
        });
        daily.scheduleAtFixedRate(this::reportYesterday, untilNext(hour).toSeconds(), TimeUnit.DAYS.toSeconds(1), TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        if (daily != null) {
            daily.shutdownNow();
        }
    }

    /** Yesterday's reports (UTC). */
    public String report() throws IOException {
        return report(yesterday().toString());
    }

    /** The day's reports, {@code yyyy-MM-dd} (UTC). */
    public String report(String day) throws IOException {
        LocalDate date = LocalDate.parse(day.strip());
        return describe(date, AggregateReports.write(recordsFolder, date, reporter(), reportsFolder()));
    }

    private void reportYesterday() {
        try {
            LOG.info(report(yesterday().toString()));
        } catch (IOException | RuntimeException e) {
            LOG.error("DMARC aggregate reports of {} not written: {}", yesterday(), e.toString());
        }
    }

    private LocalDate yesterday() {
        return LocalDate.now(clock.withZone(ZoneOffset.UTC)).minusDays(1);
    }

    /** From now to the next time the hour (UTC) begins. */
    Duration untilNext(int hour) {
        ZonedDateTime now = ZonedDateTime.now(clock.withZone(ZoneOffset.UTC));
        ZonedDateTime next = now.toLocalDate().atTime(hour, 0).atZone(ZoneOffset.UTC);
        return Duration.between(now, next.isAfter(now) ? next : next.plusDays(1));
    }

    private Path reportsFolder() {
        return recordsFolder.resolve("reports");
    }

    /** The configured reporter; the host name is asked for only when a report is made, never at activation. */
    Reporter reporter() {
        String orgName = config.report__org__name().strip().isEmpty() ? hostName() : config.report__org__name().strip();
        String email = config.report__email().strip().isEmpty() ? "postmaster@" + orgName : config.report__email().strip();
        return new Reporter(orgName, email, config.report__extra__contact__info().strip());
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    static String describe(LocalDate day, List<Report> reports) {
        if (reports.isEmpty()) {
            return "No DMARC records for " + day + " under a policy with rua.";
        }
        StringBuilder text = new StringBuilder();
        text.append(reports.size()).append(reports.size() == 1 ? " DMARC aggregate report" : " DMARC aggregate reports")
                .append(" for ").append(day).append(" in ").append(reports.get(0).file().getParent())
                .append(" (listed in rua-").append(day).append(".tsv):");
        for (Report report : reports) {
            text.append("\n ").append(report.file().getFileName()).append("  ").append(report.messages())
                    .append(report.messages() == 1 ? " message  " : " messages  ").append(report.destinations());
        }
        return text.toString();
    }
}
