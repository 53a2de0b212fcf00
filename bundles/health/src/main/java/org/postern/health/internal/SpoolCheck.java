package org.postern.health.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.postern.smtp.api.monitor.ServerStatus;

/**
 * Whether messages can be spooled: the spool folder exists, a file can be created and deleted in it, and its file
 * system has room (WARN below {@code spool.min.free.mb}, CRITICAL below {@code spool.critical.free.mb}). A full or
 * unwritable spool means every message is refused.
 */
@Component(configurationPid = HealthSettings.PID,
        property = {HealthCheck.NAME + "=Postern spool", HealthCheck.TAGS + "=" + HealthSettings.TAG})
public final class SpoolCheck implements HealthCheck {
    private static final long MB = 1024 * 1024;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ServerStatus server;
    private final long minFreeMb;
    private final long criticalFreeMb;

    @Activate
    public SpoolCheck(HealthSettings settings) {
        minFreeMb = settings.spool_min_free_mb();
        criticalFreeMb = settings.spool_critical_free_mb();
    }

    @Override
    public Result execute() {
        ServerStatus status = server;
        if (status == null) {
            FormattingResultLog log = new FormattingResultLog();
            log.critical(ListenersCheck.NOT_RUNNING);
            return new Result(log);
        }
        return check(status.spoolFolder(), minFreeMb, criticalFreeMb);
    }

    static Result check(Path folder, long minFreeMb, long criticalFreeMb) {
        FormattingResultLog log = new FormattingResultLog();
        if (!Files.isDirectory(folder)) {
            log.critical("spool folder {} does not exist", folder);
            return new Result(log);
        }
        long freeMb;
        try {
            Files.delete(Files.createTempFile(folder, "health-", ".tmp"));
            freeMb = Files.getFileStore(folder).getUsableSpace() / MB;
        } catch (IOException | SecurityException e) {
            log.critical("spool folder {}: cannot create and delete a file in it: {}", folder, e.toString());
            return new Result(log);
        }
        if (freeMb < criticalFreeMb) {
            log.critical("spool folder {}: {} MB free, below spool.critical.free.mb {}", folder, freeMb, criticalFreeMb);
        } else if (freeMb < minFreeMb) {
            log.warn("spool folder {}: {} MB free, below spool.min.free.mb {}", folder, freeMb, minFreeMb);
        } else {
            log.info("spool folder {}: {} MB free", folder, freeMb);
        }
        return new Result(log);
    }
}
