package org.postern.smtp.plugin.authflatfile.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.AuthHook;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Checks AUTH credentials against a file of {@code user@domain:password} lines, as qpsmtpd's
 * {@code auth/auth_flat_file}: PLAIN and LOGIN compare the password, CRAM-MD5 the HMAC-MD5 of the ticket. The
 * file is read again whenever it changes. An unknown user is declined (another auth plugin may know it); a
 * wrong password is denied, without saying which of the two it was.
 */
@Component(service = AuthHook.class, configurationPid = AuthFlatFile.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AuthFlatFile.Config.class)
@PosternPlugin("auth_flat_file")
@PosternHook({"auth-plain", "auth-login", "auth-cram-md5"})
@HookOrder(100)
public final class AuthFlatFile implements AuthHook {
    static final String PID = "org.postern.smtp.plugin.auth_flat_file";

    @ObjectClassDefinition(name = "Postern plugin: auth_flat_file")
    public @interface Config {
        @AttributeDefinition(description = "File of user@domain:password lines ('#' starts a comment); keep it readable by Postern only")
        String file();
    }

    private record Snapshot(FileTime modified, Map<String, String> passwords) {
    }

    private final Path file;
    private volatile Snapshot snapshot = new Snapshot(null, Map.of());

    @Activate
    public AuthFlatFile(Config config) {
        this(Path.of(config.file()));
    }

    AuthFlatFile(Path file) {
        this.file = file;
    }

    @Override
    public HookResult onAuth(AuthContext ctx) {
        String user = ctx.user().toLowerCase(Locale.ROOT);
        if (!user.contains("@")) {
            ctx.log(LogLevel.INFO, "fail: " + user + " is not user@domain");
            return HookResult.declined();
        }
        String password;
        try {
            password = passwords().get(user);
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "cannot read " + file + ": " + e.getMessage());
            return HookResult.denySoft("Authentication backend unavailable");
        }
        if (password == null) {
            ctx.log(LogLevel.INFO, "fail: no such user " + user);
            return HookResult.declined();
        }
        boolean good = ctx.clearPassword().isPresent()
                ? same(ctx.clearPassword().get(), password)
                : ctx.hashedPassword().isPresent() && ctx.ticket().isPresent()
                        && same(ctx.hashedPassword().get(), cramMd5(ctx.ticket().get(), password));
        ctx.log(LogLevel.INFO, (good ? "pass: " : "fail: wrong password for ") + user);
        return good ? HookResult.ok() : HookResult.deny();
    }

    private Map<String, String> passwords() throws IOException {
        FileTime modified = Files.getLastModifiedTime(file);
        Snapshot current = snapshot;
        if (!modified.equals(current.modified())) {
            Map<String, String> passwords = new HashMap<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int colon = line.indexOf(':');
                if (!line.isBlank() && !line.startsWith("#") && colon > 0) {
                    passwords.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1));
                }
            }
            current = new Snapshot(modified, Map.copyOf(passwords));
            snapshot = current;
        }
        return current.passwords();
    }

    /** Compares in constant time, so response times do not reveal how much of a guess was right. */
    private static boolean same(String attempt, String expected) {
        return MessageDigest.isEqual(attempt.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }

    static String cramMd5(String ticket, String password) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
            return HexFormat.of().formatHex(mac.doFinal(ticket.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacMD5 is part of every Java platform", e);
        }
    }
}
