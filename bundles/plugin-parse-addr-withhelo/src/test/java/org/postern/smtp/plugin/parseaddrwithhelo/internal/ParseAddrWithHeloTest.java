package org.postern.smtp.plugin.parseaddrwithhelo.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.ParseContext;
import org.postern.smtp.api.ReturnCode;
import org.postern.smtp.api.Session;
import org.postern.smtp.testkit.TestContext;

/** What the plugin makes of MAIL and RCPT lines after HELO, and that it leaves EHLO clients alone. */
class ParseAddrWithHeloTest {
    private final ParseAddrWithHelo plugin = new ParseAddrWithHelo();
    private final TestContext shared = new TestContext();

    /**
     * A parse hook's context (which the test kit does not make) on the test kit's context, whose session said HELO,
     * or EHLO when {@code extended}.
     */
    private ParseContext parse(String command, String line, boolean extended) {
        Session session = proxy(Session.class, (method, arguments) ->
                method.getName().equals("extended") ? extended : method.invoke(shared.session(), arguments));
        return proxy(ParseContext.class, (method, arguments) -> switch (method.getName()) {
            case "command" -> command;
            case "line" -> line;
            case "session" -> session;
            default -> method.invoke(shared, arguments);
        });
    }

    @FunctionalInterface
    private interface Answer {
        Object call(Method method, Object[] arguments) throws Exception;
    }

    private static <T> T proxy(Class<T> type, Answer answer) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                (proxy, method, arguments) -> answer.call(method, arguments)));
    }

    private HookResult mail(String line) {
        return plugin.onMailParse(parse("mail", line, false));
    }

    private HookResult rcpt(String line) {
        return plugin.onRcptParse(parse("rcpt", line, false));
    }

    /** An answer as the core reads it: the code, then the address or the 501's text. */
    private static String read(HookResult answer) {
        return answer.code() + " " + String.join(" / ", answer.message());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "FROM:<user@example.com>         | OK <user@example.com>",
        "from: <user@example.com>        | OK <user@example.com>",
        "'FROM:<user@example.com>  \t '  | OK <user@example.com>",
        "FROM:<>                         | OK <>",
        "FROM:                           | OK <>",
        "FROM:<user@example.com> SIZE=10 | DENY No parameters allowed in MAIL",
        "FROM:<a@example.com> <b@example.com> | OK <a@example.com> <b@example.com>",
        "FROM:<a@example.com> <b@example.com> X | DENY No parameters allowed in MAIL",
        "FROM:user@example.com           | OK user@example.com",
        "'FROM:user@example.com  \t '    | OK user@example.com",
        "FROM:user@example.com BODY=8BITMIME | DENY No parameters allowed in MAIL",
        "FROM:junk                       | DENY Could not parse your MAIL FROM command",
        "FROM:postmaster                 | DENY Could not parse your MAIL FROM command",
        "<user@example.com>              | DENY Syntax error in command",
        "FROM<user@example.com>          | DENY Syntax error in command",
    })
    void mailAfterHelo(String line, String expected) {
        assertEquals(expected, read(mail(line)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "TO:<user@example.com>              | OK <user@example.com>",
        "to:<user@example.com>              | OK <user@example.com>",
        "TO:<user@example.com> NOTIFY=NEVER | DENY No parameters allowed in RCPT",
        "TO:user@example.com                | OK user@example.com",
        "TO:user@example.com ORCPT=x        | DENY No parameters allowed in RCPT",
        "TO:Postmaster                      | OK Postmaster",
        "TO:abuse                           | OK abuse",
        "TO:bob                             | DENY Could not parse your RCPT TO command",
        "TO:                                | DENY Could not parse your RCPT TO command",
        "FROM:<user@example.com>            | DENY Syntax error in command",
    })
    void rcptAfterHelo(String line, String expected) {
        assertEquals(expected, read(rcpt(line)));
    }

    @Test
    void afterEhloTheCoreParsesParameters() {
        assertEquals(ReturnCode.DECLINED, plugin.onMailParse(parse("mail", "FROM:<user@example.com> SIZE=10", true)).code());
        assertEquals(ReturnCode.DECLINED, plugin.onRcptParse(parse("rcpt", "TO:<user@example.com> NOTIFY=NEVER", true)).code());
    }

    @Test
    void beforeAnyGreetingItLeavesTheLineAlone() {
        shared.session().helo(null);
        assertEquals(ReturnCode.DECLINED, plugin.onMailParse(parse("mail", "FROM:<user@example.com> SIZE=10", false)).code());
    }
}
