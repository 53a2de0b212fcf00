package org.postern.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.monitor.QueueStatus;
import org.postern.smtp.api.monitor.ServerMonitor;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.postern.smtp.api.monitor.TransactionRecord.Outcome;
import org.postern.smtp.testkit.TestConfig;

class ServerMetricsTest {
    private static final Map<String, Object> WITHOUT_JMX = Map.of("jmx.enabled", false);
    private static final MBeanServer PLATFORM = ManagementFactory.getPlatformMBeanServer();

    private final List<ServerMetrics> activated = new ArrayList<>();

    @TempDir
    Path spool;

    @AfterEach
    void deactivate() {
        activated.forEach(ServerMetrics::deactivate);
    }

    private ServerMetrics metrics(Map<String, ?> config) {
        ServerMetrics metrics = new ServerMetrics(TestConfig.of(ServerMetrics.Config.class, config));
        activated.add(metrics);
        return metrics;
    }

    private static Scrape scrape(ServerMetrics metrics) {
        return new Scrape(metrics.prometheus().scrape());
    }

    private static TransactionRecord transaction(String listener, Outcome outcome, long size) {
        return new TransactionRecord("s1.1", listener, "192.0.2.1", "<a@example.org>", List.of("<b@example.org>"), size, outcome,
                outcome == Outcome.QUEUED ? "250 2.0.0 Queued" : "", Duration.ofMillis(20));
    }

    @Test
    void aPluginsQueueShowsItsDepthWhileThePluginIsThere() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        java.util.concurrent.atomic.AtomicInteger depth = new java.util.concurrent.atomic.AtomicInteger(3);
        QueueStatus spoolQueue = new QueueStatus() {
            @Override
            public String queue() {
                return "queue/spool";
            }

            @Override
            public int messages() {
                return depth.get();
            }
        };
        metrics.bindQueue(spoolQueue);
        assertEquals(3.0, scrape(metrics).value("postern_queue_messages{queue=\"queue/spool\"}"));
        depth.set(0);
        assertEquals(0.0, scrape(metrics).value("postern_queue_messages{queue=\"queue/spool\"}"));
        metrics.unbindQueue(spoolQueue);
        assertTrue(scrape(metrics).named("postern_queue_messages").isEmpty());
    }

    @Test
    void transactionsAreCountedByListenerAndResult() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));
        metrics.transactionEnded(transaction("default", Outcome.REFUSED, 0));
        metrics.transactionEnded(transaction("submission", Outcome.ABANDONED, 0));

        Scrape scrape = scrape(metrics);
        assertTrue(scrape.text.contains("postern_transactions_total{listener=\"default\",result=\"queued\"} 2.0\n"), scrape.text);
        assertEquals(1.0, scrape.value("postern_transactions_total{listener=\"default\",result=\"refused\"}"));
        assertEquals(1.0, scrape.value("postern_transactions_total{listener=\"submission\",result=\"abandoned\"}"));
        assertEquals(3, scrape.named("postern_transactions_total").size(), scrape.text);
    }

    @Test
    void onlyQueuedMessagesCountTowardsTheMessageSizes() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 1000));
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 3000));
        metrics.transactionEnded(transaction("default", Outcome.REFUSED, 500));

        Scrape scrape = scrape(metrics);
        assertEquals(2.0, scrape.value("postern_message_size_bytes_count"));
        assertEquals(4000.0, scrape.value("postern_message_size_bytes_sum"));
        assertEquals(3000.0, scrape.value("postern_message_size_bytes_max"));
    }

    @Test
    void connectionsAreAcceptedOrRefusedAndSessionsTimed() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        metrics.connectionOpened("default");
        metrics.connectionOpened("default");
        metrics.connectionRefused("default");
        metrics.connectionClosed("default", Duration.ofSeconds(2));
        metrics.connectionClosed("default", Duration.ofMillis(500));

        Scrape scrape = scrape(metrics);
        assertEquals(2.0, scrape.value("postern_connections_total{listener=\"default\",result=\"accepted\"}"));
        assertEquals(1.0, scrape.value("postern_connections_total{listener=\"default\",result=\"refused\"}"));
        assertEquals(2.0, scrape.value("postern_session_duration_seconds_count{listener=\"default\"}"));
        assertEquals(2.5, scrape.value("postern_session_duration_seconds_sum{listener=\"default\"}"));
        assertEquals(2.0, scrape.value("postern_session_duration_seconds_max{listener=\"default\"}"));
    }

    @Test
    void pluginLatenciesFillAFewFixedBucketsPerHookPluginAndOutcome() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        metrics.pluginAnswered(HookType.RCPT, "rcpt_ok", "OK", Duration.ofMillis(3));
        metrics.pluginAnswered(HookType.RCPT, "rcpt_ok", "OK", Duration.ofMillis(40));
        metrics.pluginAnswered(HookType.RCPT, "rcpt_ok", "OK", Duration.ofSeconds(2));
        metrics.pluginAnswered(HookType.DATA_POST, "spamassassin", ServerMonitor.TIMED_OUT, Duration.ofSeconds(30));

        Scrape scrape = scrape(metrics);
        String rcptOk = "postern_plugin_latency_seconds_bucket{hook=\"rcpt\",outcome=\"OK\",plugin=\"rcpt_ok\",le=";
        assertEquals(List.of("0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1.0", "5.0", "30.0", "+Inf"),
                scrape.named(rcptOk).stream().map(series -> series.substring(rcptOk.length() + 1, series.length() - 2)).toList());
        assertEquals(0.0, scrape.value(rcptOk + "\"0.001\"}"));
        assertEquals(1.0, scrape.value(rcptOk + "\"0.005\"}"));
        assertEquals(2.0, scrape.value(rcptOk + "\"0.05\"}"));
        assertEquals(2.0, scrape.value(rcptOk + "\"1.0\"}"));
        assertEquals(3.0, scrape.value(rcptOk + "\"5.0\"}"));
        assertEquals(3.0, scrape.value(rcptOk + "\"+Inf\"}"));
        assertEquals(3.0, scrape.value("postern_plugin_latency_seconds_count{hook=\"rcpt\",outcome=\"OK\",plugin=\"rcpt_ok\"}"));
        assertEquals(1.0, scrape.value(
                "postern_plugin_latency_seconds_bucket{hook=\"data_post\",outcome=\"TIMED_OUT\",plugin=\"spamassassin\",le=\"30.0\"}"));
    }

    @Test
    void gaugesReadTheServerStatusWhenScraped() throws Exception {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        FakeStatus status = new FakeStatus(spool);
        Files.write(spool.resolve("a.eml"), new byte[10]);
        Files.write(spool.resolve("b.eml"), new byte[20]);
        status.sessions = Map.of("idle", 2, "plugins", 1, "data", 0, "auth", 0, "closing", 0);
        status.threadsHeld = 3;
        metrics.bindStatus(status);

        Scrape scrape = scrape(metrics);
        assertEquals(2.0, scrape.value("postern_sessions{state=\"idle\"}"));
        assertEquals(1.0, scrape.value("postern_sessions{state=\"plugins\"}"));
        assertEquals(0.0, scrape.value("postern_sessions{state=\"closing\"}"));
        assertEquals(5, scrape.named("postern_sessions{").size(), scrape.text);
        assertEquals(3.0, scrape.value("postern_hook_threads_held"));
        assertEquals(2.0, scrape.value("postern_spool_files"));
        assertEquals(30.0, scrape.value("postern_spool_bytes"));
        assertTrue(scrape.value("postern_spool_free_bytes") > 0, scrape.text);

        status.sessions = Map.of("idle", 0, "plugins", 0, "data", 4, "auth", 0, "closing", 0);
        assertEquals(4.0, scrape(metrics).value("postern_sessions{state=\"data\"}"));
    }

    @Test
    void withoutARunningServerTheGaugesSayNaN() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        assertTrue(Double.isNaN(scrape(metrics).value("postern_hook_threads_held")));

        FakeStatus status = new FakeStatus(spool);
        metrics.bindStatus(status);
        metrics.unbindStatus(status);
        Scrape scrape = scrape(metrics);
        assertTrue(Double.isNaN(scrape.value("postern_sessions{state=\"idle\"}")));
        assertTrue(Double.isNaN(scrape.value("postern_spool_files")));
        assertTrue(Double.isNaN(scrape.value("postern_spool_free_bytes")));
    }

    @Test
    void aReplacedStatusGoingAwayLeavesItsSuccessor() {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        FakeStatus first = new FakeStatus(spool);
        FakeStatus second = new FakeStatus(spool);
        second.threadsHeld = 7;
        metrics.bindStatus(first);
        metrics.bindStatus(second);
        metrics.unbindStatus(first);
        assertEquals(7.0, scrape(metrics).value("postern_hook_threads_held"));
    }

    @Test
    void aSpoolFolderThatIsGoneCountsAsUnknown() {
        assertTrue(Double.isNaN(SpoolCount.count(spool.resolve("missing")).files()));
        assertTrue(Double.isNaN(SpoolCount.usableBytes(spool.resolve("missing"))));
    }

    @Test
    void theJvmBasicsAreThere() {
        Scrape scrape = scrape(metrics(WITHOUT_JMX));
        for (String metric : List.of("jvm_memory_used_bytes{", "jvm_threads_live_threads", "system_cpu_count", "jvm_gc_max_data_size_bytes")) {
            assertFalse(scrape.named(metric).isEmpty(), () -> metric + " missing in\n" + scrape.text);
        }
    }

    @Test
    void theMetersAreMBeansInThePosternDomain() throws Exception {
        ServerMetrics metrics = metrics(Map.of());
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));

        ObjectName queued = new ObjectName("postern:name=posternTransactions.listener.default.result.queued,type=meters");
        assertEquals(2L, PLATFORM.getAttribute(queued, "Count"));
        assertFalse(PLATFORM.queryNames(new ObjectName("postern:name=jvmMemoryUsed.*,*"), null).isEmpty());

        metrics.deactivate();
        activated.remove(metrics);
        assertEquals(Set.of(), PLATFORM.queryNames(new ObjectName("postern:*"), null));
    }

    @Test
    void jmxCanBeLeftOut() throws Exception {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));
        assertEquals(Set.of(), PLATFORM.queryNames(new ObjectName("postern:*"), null));
    }

    @Test
    void aChangedConfigurationMovesTheMBeansAndKeepsTheCounts() throws Exception {
        ServerMetrics metrics = metrics(WITHOUT_JMX);
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));

        metrics.modified(TestConfig.of(ServerMetrics.Config.class, Map.of("jmx.domain", "postern-test")));
        metrics.transactionEnded(transaction("default", Outcome.QUEUED, 100));
        assertEquals(2.0, scrape(metrics).value("postern_transactions_total{listener=\"default\",result=\"queued\"}"));
        // the MBeans count from when they were published
        assertEquals(1L, PLATFORM.getAttribute(
                new ObjectName("postern-test:name=posternTransactions.listener.default.result.queued,type=meters"), "Count"));

        metrics.modified(TestConfig.of(ServerMetrics.Config.class, WITHOUT_JMX));
        assertEquals(Set.of(), PLATFORM.queryNames(new ObjectName("postern-test:*"), null));
        assertEquals(2.0, scrape(metrics).value("postern_transactions_total{listener=\"default\",result=\"queued\"}"));
    }
}
