package org.postern.smtp.plugin.karma.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postern.smtp.api.store.StateStore;
import org.postern.smtp.plugin.karma.internal.ClientHistory.Field;

/**
 * qpsmtpd's {@code karma_tool} as shell commands (Gogo in the standalone server, Karaf's shell), on the store the
 * plugin keeps its histories in: {@code karma:search <ip>} shows an address's record, {@code karma:capture <ip>}
 * sends it to the penalty box, {@code karma:release <ip>} lets it out. The penalty lasts the plugin's
 * {@code penalty_days}, read from its configuration.
 */
@Component(service = KarmaCommands.class, configurationPid = Karma.PID, property = {
    "osgi.command.scope=karma",
    "osgi.command.function=search",
    "osgi.command.function=capture",
    "osgi.command.function=release"
})
public final class KarmaCommands {
    /** qpsmtpd's table heading, without its host name column: no command waits for the DNS. */
    static final String HEADING = "      IP Address                 Penalty        Naughty  Nice  Connects";
    private static final DateTimeFormatter PENALTY_TIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm", Locale.ROOT);
    /** What InetAddress parses as an address without asking the DNS, which it asks for anything else. */
    private static final Pattern ADDRESS = Pattern.compile("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");
    private static final long STORE_WAIT_SECONDS = 10;

    private final StateStore store;
    private final Clock clock;
    private final double penaltyDays;

    @Activate
    public KarmaCommands(@Reference StateStore store, Karma.Config config) {
        this(store, config, Clock.systemDefaultZone());
    }

    KarmaCommands(StateStore store, Karma.Config config, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.penaltyDays = config.penalty__days() > 0 ? config.penalty__days() : 1;
    }

    /** The address's record: when its last penalty started, its naughty, nice and recorded sessions. */
    public String search(String ip) throws Exception {
        String address = address(ip);
        return HEADING + "\n" + row(address, await(ClientHistory.read(store, address)));
    }

    /** Sends the address to the penalty box from now, counting one more naughty session, as karma_tool does. */
    public String capture(String ip) throws Exception {
        String address = address(ip);
        long now = clock.instant().getEpochSecond();
        await(ClientHistory.penalize(store, address, now, penalty()));
        await(ClientHistory.count(store, address, Field.NAUGHTY));
        return address + " is in the penalty box until " + time(now + penalty().toSeconds()) + ".\n" + search(address);
    }

    /** Lets the address out of the penalty box and forgets its naughty sessions, as karma_tool does. */
    public String release(String ip) throws Exception {
        String address = address(ip);
        await(CompletableFuture.allOf(store.remove(ClientHistory.key(address, Field.PENALTY)).toCompletableFuture(),
                store.remove(ClientHistory.key(address, Field.NAUGHTY)).toCompletableFuture()));
        return address + " is out of the penalty box.\n" + search(address);
    }

    private Duration penalty() {
        return Duration.ofSeconds((long) Math.ceil(penaltyDays * 86_400));
    }

    /** The address as karma keys it: the client address's textual form, whatever form it is typed in. */
    static String address(String ip) {
        String typed = ip.strip();
        if (ADDRESS.matcher(typed).matches()) {
            try {
                return InetAddress.getByName(typed).getHostAddress();
            } catch (UnknownHostException malformed) {
                // an address look-alike, refused below
            }
        }
        throw new IllegalArgumentException("not an IP address: " + ip);
    }

    private String row(String address, ClientHistory history) {
        String penalty = history.penaltyStart() == 0 ? "" : time(history.penaltyStart());
        return String.format(Locale.ROOT, " %-18s  %24s    %3s     %3s     %3s", address, penalty, history.naughty(),
                history.nice(), history.connects());
    }

    private String time(long epochSecond) {
        return PENALTY_TIME.format(Instant.ofEpochSecond(epochSecond).atZone(clock.getZone()));
    }

    /** Shell commands may wait, unlike hooks; a store that does not answer is reported, not waited for forever. */
    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(STORE_WAIT_SECONDS, TimeUnit.SECONDS);
    }
}
