package org.postern.smtp.plugin.authjaas.internal;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AccountLockedException;
import javax.security.auth.login.AccountNotFoundException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import javax.security.auth.spi.LoginModule;

/**
 * The tests' JAAS login module: knows {@code alice} with the password of its {@code password} option, and a few
 * users that stand for what realms do: {@code locked}, {@code broken} (its backend is down) and {@code slow} (waits
 * for {@link #RELEASE}). Remembers what it was asked, and on which class loader.
 */
public final class RealmModule implements LoginModule {
    static final AtomicInteger LOGINS = new AtomicInteger();
    static volatile String name;
    static volatile ClassLoader contextLoader;
    static volatile boolean interrupted;
    static volatile CountDownLatch release = new CountDownLatch(1);

    private CallbackHandler handler;
    private String password;

    static void reset() {
        LOGINS.set(0);
        name = null;
        contextLoader = null;
        interrupted = false;
        release = new CountDownLatch(1);
    }

    @Override
    public void initialize(Subject subject, CallbackHandler callbackHandler, Map<String, ?> sharedState, Map<String, ?> options) {
        handler = callbackHandler;
        password = (String) options.get("password");
    }

    @Override
    public boolean login() throws LoginException {
        LOGINS.incrementAndGet();
        contextLoader = Thread.currentThread().getContextClassLoader();
        NameCallback user = new NameCallback("user: ");
        PasswordCallback secret = new PasswordCallback("password: ", false);
        try {
            handler.handle(new Callback[] {user, secret});
        } catch (IOException | UnsupportedCallbackException e) {
            throw new LoginException(e.toString());
        }
        name = user.getName();
        String given = new String(secret.getPassword());
        switch (name) {
            case "alice" -> {
                if (!given.equals(password)) {
                    throw new FailedLoginException("wrong password");
                }
                return true;
            }
            case "locked" -> throw new AccountLockedException("locked");
            case "broken" -> throw new LoginException("directory down");
            case "slow" -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                    throw new LoginException("interrupted");
                }
                throw new FailedLoginException("wrong password");
            }
            default -> throw new AccountNotFoundException(name);
        }
    }

    @Override
    public boolean commit() {
        return true;
    }

    @Override
    public boolean abort() {
        return true;
    }

    @Override
    public boolean logout() {
        return true;
    }
}
