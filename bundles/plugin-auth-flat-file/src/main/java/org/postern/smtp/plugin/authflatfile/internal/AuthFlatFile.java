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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.AuthContext;
import org.postern.smtp.api.AuthHook;
import org.postern.smtp.api.BlockingCalls;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;

/**
 * Checks AUTH credentials against a file of {@code user@domain:password} lines, as qpsmtpd's
 * {@code auth/auth_flat_file}: PLAIN and LOGIN compare the password, CRAM-MD5 the HMAC-MD5 of the ticket. A
 * password may also be a bcrypt or SHA-crypt hash, which PLAIN and LOGIN check on a small pool of their own and
 * CRAM-MD5 cannot use. The file is read again whenever it changes. An unknown user is declined (another auth
 * plugin may know it); a wrong password is denied, without saying which of the two it was.
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
        @AttributeDefinition(description = "File of user@domain:password lines ('#' starts a comment); a password may be a "
                + "bcrypt ($2a$, $2b$, $2y$) or SHA-crypt ($5$, $6$) hash; keep the file readable by Postern only")
        String file();
    }

    /** How a password is stored. A stored value that starts with a crypt(3) id such as {@code $6$} is a hash. */
    enum Scheme {
        CLEAR(null),
        BCRYPT(Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}")),
        SHA256_CRYPT(Pattern.compile("\\$5\\$(rounds=[0-9]{1,9}\\$)?[./A-Za-z0-9]{1,16}\\$[./A-Za-z0-9]{43}")),
        SHA512_CRYPT(Pattern.compile("\\$6\\$(rounds=[0-9]{1,9}\\$)?[./A-Za-z0-9]{1,16}\\$[./A-Za-z0-9]{86}")),
        /** A hash of another scheme (yescrypt, MD5-crypt…) or a damaged one: nobody logs in with it. */
        UNUSABLE(null);

        private static final Pattern CRYPT_ID = Pattern.compile("\\$[a-z0-9-]+\\$");
        private static final List<Scheme> HASHES = List.of(BCRYPT, SHA256_CRYPT, SHA512_CRYPT);

        private final Pattern shape;

        Scheme(Pattern shape) {
            this.shape = shape;
        }

        static Scheme of(String stored) {
            if (!CRYPT_ID.matcher(stored).lookingAt()) {
                return CLEAR;
            }
            return HASHES.stream().filter(scheme -> scheme.shape.matcher(stored).matches()).findFirst().orElse(UNUSABLE);
        }

        /**
         * Whether the attempt is the stored password, in time that does not depend on how much of it was right
         * (OpenBSDBCrypt compares in constant time itself). Throws IllegalArgumentException for what cannot be
         * checked, e.g. more SHA-crypt rounds than commons-codec allows.
         */
        boolean verify(String attempt, String stored) {
            byte[] password = attempt.getBytes(StandardCharsets.UTF_8);
            return switch (this) {
                case BCRYPT -> OpenBSDBCrypt.checkPassword(stored, password);
                case SHA256_CRYPT -> same(Sha2Crypt.sha256Crypt(password, stored), stored);
                case SHA512_CRYPT -> same(Sha2Crypt.sha512Crypt(password, stored), stored);
                case CLEAR -> same(attempt, stored);
                case UNUSABLE -> throw new IllegalArgumentException("not a hash this plugin checks");
            };
        }
    }

    private record Entry(Scheme scheme, String stored) {
    }

    /** One reading of the file; {@code toldCramMd5} remembers whom the CRAM-MD5 warning was logged for. */
    private record Snapshot(FileTime modified, Map<String, Entry> entries, Set<String> toldCramMd5) {
    }

    /**
     * Hash checks take tens of milliseconds of CPU each (bcrypt cost 10), so they run on half the cores at most, not
     * on hook threads: a burst of AUTH cannot take every hook thread and every core from the other sessions, and
     * what does not fit in the queue is answered at once with a temporary failure.
     */
    static BlockingCalls hashPool() {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        return new BlockingCalls("auth-flat-file", threads, 32 * threads);
    }

    private final Path file;
    private final BlockingCalls hasher;
    private volatile Snapshot snapshot = new Snapshot(null, Map.of(), Set.of());

    @Activate
    public AuthFlatFile(Config config) {
        this(Path.of(config.file()), hashPool());
    }

    AuthFlatFile(Path file, BlockingCalls hasher) {
        this.file = file;
        this.hasher = hasher;
    }

    @Deactivate
    void deactivate() {
        hasher.close();
    }

    @Override
    public HookResult onAuth(AuthContext ctx) {
        String user = ctx.user().toLowerCase(Locale.ROOT);
        if (!user.contains("@")) {
            ctx.log(LogLevel.INFO, "fail: " + user + " is not user@domain");
            return HookResult.declined();
        }
        Snapshot current;
        try {
            current = read(ctx);
        } catch (IOException e) {
            ctx.log(LogLevel.ERROR, "cannot read " + file + ": " + e.getMessage());
            return HookResult.denySoft("Authentication backend unavailable");
        }
        Entry entry = current.entries().get(user);
        if (entry == null) {
            ctx.log(LogLevel.INFO, "fail: no such user " + user);
            return HookResult.declined();
        }
        if (entry.scheme() == Scheme.UNUSABLE) {
            ctx.log(LogLevel.INFO, "fail: the entry of " + user + " is not a hash this plugin checks");
            return HookResult.denySoft("Authentication backend unavailable");
        }
        if (ctx.clearPassword().isEmpty()) {
            return cramMd5(ctx, current, user, entry);
        }
        String attempt = ctx.clearPassword().get();
        if (entry.scheme() == Scheme.CLEAR) {
            return verdict(ctx, user, Scheme.CLEAR.verify(attempt, entry.stored()));
        }
        return HookResult.later(hasher.call(() -> checkHash(ctx, user, entry, attempt)).exceptionally(busy -> {
            ctx.log(LogLevel.WARN, "fail: too many password hashes being checked, " + user + " told to try again later");
            return HookResult.denySoft("Authentication backend busy");
        }));
    }

    private HookResult cramMd5(AuthContext ctx, Snapshot current, String user, Entry entry) {
        if (entry.scheme() != Scheme.CLEAR) {
            // the HMAC needs the clear password; another plugin may still know it
            if (current.toldCramMd5().add(user)) {
                ctx.log(LogLevel.WARN, "skip: " + user + " has a hashed password, which CRAM-MD5 cannot check");
            }
            return HookResult.declined();
        }
        boolean good = ctx.hashedPassword().isPresent() && ctx.ticket().isPresent()
                && same(ctx.hashedPassword().get(), cramMd5(ctx.ticket().get(), entry.stored()));
        return verdict(ctx, user, good);
    }

    private static HookResult checkHash(AuthContext ctx, String user, Entry entry, String attempt) {
        try {
            return verdict(ctx, user, entry.scheme().verify(attempt, entry.stored()));
        } catch (RuntimeException refused) {
            ctx.log(LogLevel.ERROR, "the hash of " + user + " cannot be checked: " + refused.getMessage());
            return HookResult.denySoft("Authentication backend unavailable");
        }
    }

    private static HookResult verdict(AuthContext ctx, String user, boolean good) {
        ctx.log(LogLevel.INFO, (good ? "pass: " : "fail: wrong password for ") + user);
        return good ? HookResult.ok() : HookResult.deny();
    }

    /** The file as last read, read again when it changed; entries it cannot use are logged once per reading. */
    private Snapshot read(AuthContext ctx) throws IOException {
        FileTime modified = Files.getLastModifiedTime(file);
        Snapshot current = snapshot;
        if (!modified.equals(current.modified())) {
            Map<String, Entry> entries = new HashMap<>();
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int number = 1; number <= lines.size(); number++) {
                String line = lines.get(number - 1);
                int colon = line.indexOf(':');
                if (!line.isBlank() && !line.startsWith("#") && colon > 0) {
                    String user = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                    String stored = line.substring(colon + 1);
                    Scheme scheme = Scheme.of(stored);
                    if (scheme == Scheme.UNUSABLE) {
                        ctx.log(LogLevel.ERROR, file + " line " + number + ": the password of " + user
                                + " looks like a crypt(3) hash but is not a whole bcrypt ($2a$, $2b$, $2y$) or SHA-crypt ($5$, $6$) one");
                    }
                    entries.put(user, new Entry(scheme, stored));
                }
            }
            current = new Snapshot(modified, Map.copyOf(entries), ConcurrentHashMap.newKeySet());
            snapshot = current;
        }
        return current;
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
