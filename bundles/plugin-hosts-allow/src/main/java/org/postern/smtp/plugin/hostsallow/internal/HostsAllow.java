package org.postern.smtp.plugin.hostsallow.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.PreConnectionContext;
import org.postern.smtp.api.PreConnectionHook;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.SharedNotes;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code hosts_allow}: before the greeting, refuses a client with too many open connections (the
 * forkserver's {@code --max-from-ip}), then answers for the client what the first entry of the config item
 * {@code hosts_allow} that names its address or network says: {@code <ip>[/<prefix>] <return code> [message]}.
 */
@Component(service = PreConnectionHook.class, configurationPid = HostsAllow.PID)
@Designate(ocd = HostsAllow.Config.class)
@PosternPlugin("hosts_allow")
@PosternHook("pre_connection")
@HookOrder(100)
public final class HostsAllow implements PreConnectionHook {
    static final String PID = "org.postern.smtp.plugin.hosts_allow";


    private static final int TRUSTED_KARMA = 5;
    private static final int TRUSTED_BONUS = 3;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("(?=.*:)[0-9A-Fa-f:][0-9A-Fa-f:.]*");
    private static final Logger LOG = LoggerFactory.getLogger(HostsAllow.class);

    @ObjectClassDefinition(name = "Postern plugin: hosts_allow",
            description = "Refuses clients by address (config item hosts_allow) and by their number of open connections")
    public @interface Config {
        @AttributeDefinition(name = "max_conn_ip", description = "Open connections one client address (IPv6: one network of "
                + "the core's ipv6.prefix.length) may have, this one included; more get 451. 0: no limit here "
                + "(the core's max.connections.per.ip still applies). qpsmtpd-forkserver's -m / --max-from-ip")
        int max__conn__ip() default 5;
    }

    /** One entry: a network, and the answer with its message for the clients in it. */
    private record Entry(byte[] network, int prefix, ReturnCode answer, Optional<String> message) {
        boolean contains(InetAddress client) {
            byte[] address = client.getAddress();
            if (address.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < prefix; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((address[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The entries parsed from the item's values last seen, so a list that does not change is parsed (and its faults logged) once. */
    private record Parsed(List<String> lines, List<Entry> entries) {
    }

    private final int maxConnIp;
    private volatile Parsed parsed = new Parsed(List.of(), List.of());

    @Activate
    public HostsAllow(Config config) {
        if (config.max__conn__ip() >= 0) {
            this.maxConnIp = config.max__conn__ip();
        } else {
            LOG.error("configuration {}: key 'max_conn_ip' must not be negative, not {}; no limit", PID, config.max__conn__ip());
            this.maxConnIp = 0;
        }
    }

    @Override
    public HookResult onPreConnection(PreConnectionContext ctx) {
        InetAddress client = ctx.session().remoteAddress().getAddress();
        String remote = client.getHostAddress();
        if (maxConnIp > 0) {
            int max = ctx.session().notes().get(SharedNotes.KARMA_HISTORY).map(karma -> karmaBump(ctx, karma)).orElse(maxConnIp);
            int connections = ctx.connectionsFromRemoteIp();
            if (connections > max) {
                String refusal = "too many connections from " + remote;
                ctx.log(LogLevel.INFO, "fail: " + refusal + " (" + connections + " > " + max + ")");
                return HookResult.denySoft(refusal + ", try again later");
            }
        }
        for (Entry entry : entries(ctx.config("hosts_allow"), ctx)) {
            if (entry.contains(client)) {
                boolean denial = entry.answer().isDenial();
                String detail = entry.answer() + entry.message().map(text -> ", " + text).orElse("");
                ctx.log(denial ? LogLevel.INFO : LogLevel.DEBUG, (denial ? "fail, " : "pass, ") + detail);
                return HookResult.of(entry.answer(), entry.message().stream().toArray(String[]::new));
            }
        }
        ctx.log(LogLevel.DEBUG, "pass");
        return HookResult.declined();
    }

    private int karmaBump(PreConnectionContext ctx, int karma) {
        if (karma > TRUSTED_KARMA) {
            ctx.log(LogLevel.DEBUG, "connect limit +" + TRUSTED_BONUS + " for positive karma");
            return maxConnIp + TRUSTED_BONUS;
        }
        if (karma <= 0) {
            ctx.log(LogLevel.INFO, "connect limit 1, karma " + karma);
            return 1;
        }
        return maxConnIp;
    }

    private List<Entry> entries(List<String> lines, PreConnectionContext ctx) {
        Parsed last = parsed;
        if (last.lines().equals(lines)) {
            return last.entries();
        }
        List<Entry> entries = parse(lines, fault -> ctx.log(LogLevel.WARN, "config item hosts_allow: " + fault));
        parsed = new Parsed(List.copyOf(lines), entries);
        return entries;
    }

    /** Entries as qpsmtpd reads them: address or network, return code, and the rest of the line as the message. */
    static List<Entry> parse(List<String> lines, Consumer<String> fault) {
        List<Entry> entries = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.strip().split("\\s+", 3);
            if (fields.length < 2) {
                // qpsmtpd skips a line without a return code
                continue;
            }
            String[] network = fields[0].split("/", 2);
            Optional<InetAddress> address = literal(network[0]);
            if (address.isEmpty()) {
                fault.accept("'" + fields[0] + "' is no IP address or network; line ignored: " + line);
                continue;
            }
            int bits = address.get().getAddress().length * 8;
            int prefix;
            try {
                prefix = network.length == 1 ? bits : Integer.parseInt(network[1]);
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bits) {
                fault.accept("'" + fields[0] + "' has no prefix length from 0 to " + bits + "; line ignored: " + line);
                continue;
            }
            Optional<String> message = fields.length > 2 ? Optional.of(fields[2]) : Optional.empty();
            entries.add(new Entry(address.get().getAddress(), prefix, answer(fields[1], line, fault), message));
        }
        return List.copyOf(entries);
    }

    /** An address literal; never a DNS lookup, which InetAddress.getByName makes of anything it cannot parse. */
    private static Optional<InetAddress> literal(String text) {
        try {
            if (IPV4.matcher(text).matches()) {
                byte[] octets = new byte[4];
                String[] decimals = text.split("\\.");
                for (int i = 0; i < octets.length; i++) {
                    int octet = Integer.parseInt(decimals[i]);
                    if (octet > 255) {
                        return Optional.empty();
                    }
                    octets[i] = (byte) octet;
                }
                return Optional.of(InetAddress.getByAddress(octets));
            }
            // starting with a hex digit or colon and holding a colon, it is parsed as IPv6 or refused, never looked up
            return IPV6.matcher(text).matches() ? Optional.of(InetAddress.getByName(text)) : Optional.empty();
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** qpsmtpd's return code names; as there, an unknown one is DECLINED, which still ends the search. */
    private static ReturnCode answer(String name, String line, Consumer<String> fault) {
        String upper = name.toUpperCase(Locale.ROOT);
        if (upper.equals("DENYHARD")) {
            return ReturnCode.DENY_DISCONNECT;
        }
        try {
            return ReturnCode.valueOf(upper);
        } catch (IllegalArgumentException e) {
            fault.accept("'" + name + "' is no return code; DECLINED: " + line);
            return ReturnCode.DECLINED;
        }
    }
}
