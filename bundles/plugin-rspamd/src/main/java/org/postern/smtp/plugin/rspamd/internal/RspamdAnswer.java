package org.postern.smtp.plugin.rspamd.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What rspamd's normal worker answers to {@code POST /checkv2} (its JSON protocol, version 2): the action, the score,
 * the symbols with their scores, and what it asks of the MTA: an SMTP message, a new subject, DKIM signatures and the
 * header fields its {@code milter_headers} module adds or removes.
 *
 * @param action       {@code no action}, {@code greylist}, {@code add header}, {@code rewrite subject},
 *                     {@code soft reject} or {@code reject}
 * @param symbols      each symbol's score, in rspamd's order
 * @param smtpMessage  {@code messages.smtp_message}: the reply text rspamd wants the client to see
 * @param subject      the rewritten subject, for {@code rewrite subject}
 * @param milterAdd    {@code milter.add_headers}, one entry per field to add
 * @param milterRemove {@code milter.remove_headers}: the names of fields to remove
 */
record RspamdAnswer(String action, double score, double requiredScore, Map<String, Double> symbols,
        Optional<String> smtpMessage, Optional<String> subject, List<String> dkimSignatures, List<MilterField> milterAdd,
        List<String> milterRemove) {

    /**
     * A field rspamd asks to add; {@code top}: rspamd gave it an order of 0 or more (milter's insert at a position),
     * which Postern takes as the top of the header, where trace fields go; without one, or with a negative one, it goes
     * at the end.
     */
    record MilterField(String name, String value, boolean top) {
    }

    /** Thrown for an answer that is not rspamd's: not JSON, not an object, rspamd's {@code error}, no action. */
    static final class Malformed extends IOException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    static RspamdAnswer parse(String json) throws Malformed {
        JsonObject answer;
        try {
            JsonElement root = JsonParser.parseString(json);
            if (!root.isJsonObject()) {
                throw new Malformed("not a JSON object: " + abbreviate(json));
            }
            answer = root.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new Malformed("not JSON: " + abbreviate(json));
        }
        if (answer.has("error")) {
            throw new Malformed("rspamd answered an error: " + text(answer.get("error")).orElse(answer.get("error").toString()));
        }
        String action = text(answer.get("action")).orElseThrow(() -> new Malformed("no action in " + abbreviate(json)));
        Map<String, Double> symbols = new LinkedHashMap<>();
        object(answer, "symbols").entrySet().forEach(symbol -> symbols.put(symbol.getKey(),
                number(symbol.getValue().isJsonObject() ? symbol.getValue().getAsJsonObject().get("score") : null)));
        List<MilterField> add = new ArrayList<>();
        JsonObject milter = object(answer, "milter");
        for (Map.Entry<String, JsonElement> field : object(milter, "add_headers").entrySet()) {
            for (JsonElement value : field.getValue().isJsonArray() ? field.getValue().getAsJsonArray() : single(field.getValue())) {
                milterField(field.getKey(), value).ifPresent(add::add);
            }
        }
        List<String> dkim = new ArrayList<>();
        JsonElement signatures = answer.get("dkim-signature");
        for (JsonElement signature : signatures != null && signatures.isJsonArray() ? signatures.getAsJsonArray() : single(signatures)) {
            text(signature).ifPresent(dkim::add);
        }
        return new RspamdAnswer(action, number(answer.get("score")), number(answer.get("required_score")), symbols,
                text(object(answer, "messages").get("smtp_message")), text(answer.get("subject")), dkim, add,
                List.copyOf(object(milter, "remove_headers").keySet()));
    }

    /** A value of milter.add_headers: the value alone, or {@code {"value": …, "order": n}}. */
    private static Optional<MilterField> milterField(String name, JsonElement value) {
        if (value.isJsonObject()) {
            JsonObject field = value.getAsJsonObject();
            boolean top = field.has("order") && number(field.get("order")) >= 0;
            return text(field.get("value")).map(text -> new MilterField(name, text, top));
        }
        return text(value).map(text -> new MilterField(name, text, false));
    }

    private static JsonArray single(JsonElement element) {
        JsonArray array = new JsonArray();
        if (element != null) {
            array.add(element);
        }
        return array;
    }

    private static JsonObject object(JsonObject parent, String name) {
        JsonElement element = parent.get(name);
        return element != null && element.isJsonObject() ? element.getAsJsonObject() : new JsonObject();
    }

    private static Optional<String> text(JsonElement element) {
        return element != null && element.isJsonPrimitive() ? Optional.of(element.getAsString()) : Optional.empty();
    }

    private static double number(JsonElement element) {
        return element != null && element.isJsonPrimitive() && element.getAsJsonPrimitive().isNumber() ? element.getAsDouble() : 0;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "…";
    }
}
