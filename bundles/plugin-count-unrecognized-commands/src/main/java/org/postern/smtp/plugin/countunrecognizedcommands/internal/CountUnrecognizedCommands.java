package org.postern.smtp.plugin.countunrecognizedcommands.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.CommandContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.UnrecognizedCommandHook;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code count_unrecognized_commands}: counts the unrecognized commands of a session and, at the
 * {@code count}th, answers 521 and closes the connection. Clients that spew garbage (an HTTP proxy relaying a
 * web request, a confused script) are let go early instead of filling the log.
 */
@Component(service = UnrecognizedCommandHook.class, configurationPid = CountUnrecognizedCommands.PID)
@Designate(ocd = CountUnrecognizedCommands.Config.class)
@PosternPlugin("count_unrecognized_commands")
@PosternHook("unrecognized_command")
@HookOrder(900)
public final class CountUnrecognizedCommands implements UnrecognizedCommandHook {
    static final String PID = "org.postern.smtp.plugin.count_unrecognized_commands";
    /** qpsmtpd's connection note {@code unrec_cmd_count}: the session's unrecognized commands so far. */
    static final NoteKey<Integer> UNRECOGNIZED_SO_FAR = NoteKey.of("unrec_cmd_count", Integer.class);
    private static final int DEFAULT_COUNT = 4;
    private static final Logger LOG = LoggerFactory.getLogger(CountUnrecognizedCommands.class);

    @ObjectClassDefinition(name = "Postern plugin: count_unrecognized_commands",
            description = "Disconnects a client after too many unrecognized commands")
    public @interface Config {
        @AttributeDefinition(description = "The unrecognized command that reaches this number is answered 521 and the "
                + "connection closes; at least 1")
        int count() default DEFAULT_COUNT;
    }

    private final int count;

    @Activate
    public CountUnrecognizedCommands(Config config) {
        if (config.count() < 1) {
            // qpsmtpd's "shift || 4" reads 0 as no argument; a negative count would close at the first command
            LOG.error("configuration {}: key 'count': {} is less than 1; using {}", PID, config.count(), DEFAULT_COUNT);
            this.count = DEFAULT_COUNT;
        } else {
            this.count = config.count();
        }
    }

    @Override
    public HookResult onUnrecognizedCommand(CommandContext ctx) {
        Notes notes = ctx.session().notes();
        int unrecognized = notes.get(UNRECOGNIZED_SO_FAR).orElse(0) + 1;
        notes.put(UNRECOGNIZED_SO_FAR, unrecognized);
        if (unrecognized < count) {
            ctx.log(LogLevel.INFO, "'" + ctx.command() + "', (" + unrecognized + ")");
            return HookResult.declined();
        }
        ctx.log(LogLevel.INFO, "fail, '" + ctx.command() + "' (" + unrecognized + ")");
        return HookResult.denyDisconnect(
                "Closing connection, " + unrecognized + " unrecognized commands. Perhaps you should read RFC 2821?");
    }
}
