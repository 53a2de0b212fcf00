package org.postern.smtp.itests;

import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.Test;

/**
 * Every plugin bundle is reachable the ways the README promises: a Karaf feature named after it (which pulls in
 * postern-dns when the bundle imports the DNS API), a row in the README's plugin table, and a README of its own
 * that names that feature.
 */
public class PluginWiringIT {
    private static final Path BUNDLES = Path.of(System.getProperty("postern.bundles"));
    private static final Path ROOT = BUNDLES.getParent();
    /** A feature, up to its own closing tag on a line of its own (the features it pulls in close on their line). */
    private static final Pattern FEATURE = Pattern.compile("<feature name=\"([a-z0-9-]+)\"[^>]*>(.*?)^\\s*</feature>\\s*$",
            Pattern.DOTALL | Pattern.MULTILINE);

    @Test
    public void everyPluginHasItsFeatureItsReadmeRowAndItsReadme() throws IOException {
        String features = Files.readString(ROOT.resolve("distribution/src/main/karaf/features.xml"));
        String readme = Files.readString(ROOT.resolve("README.md"));
        List<String> missing = new ArrayList<>();
        for (Path module : pluginModules()) {
            String name = module.getFileName().toString();
            String feature = "postern-" + name.substring("plugin-".length());
            String body = featureBody(features, feature);
            if (body == null || !body.contains("<bundle>mvn:org.postern/" + name + "/${project.version}</bundle>")) {
                missing.add(feature + ": no feature with the bundle " + name);
            } else if (importsDnsApi(module, name) && !body.contains("<feature>postern-dns</feature>")) {
                missing.add(feature + ": the bundle needs the DNS resolver, the feature does not pull in postern-dns");
            }
            if (!readme.contains("](bundles/" + name + "/README.md)")) {
                missing.add(name + ": no row in the README's plugin table");
            }
            Path own = module.resolve("README.md");
            if (!Files.exists(own) || !Files.readString(own).contains(feature)) {
                missing.add(name + ": no README naming the feature " + feature);
            }
        }
        assertTrue(String.join("\n", missing), missing.isEmpty());
    }

    private static List<Path> pluginModules() throws IOException {
        try (Stream<Path> modules = Files.list(BUNDLES)) {
            return modules.filter(path -> path.getFileName().toString().startsWith("plugin-")).sorted().toList();
        }
    }

    private static String featureBody(String features, String name) {
        Matcher feature = FEATURE.matcher(features);
        while (feature.find()) {
            if (feature.group(1).equals(name)) {
                return feature.group(2);
            }
        }
        return null;
    }

    /** The built bundle imports org.postern.smtp.api.dns (this runs after the plugin modules are packaged). */
    private static boolean importsDnsApi(Path module, String name) throws IOException {
        Path jar = module.resolve("target").resolve(name + "-" + System.getProperty("postern.version") + ".jar");
        try (JarFile bundle = new JarFile(jar.toFile())) {
            String imports = bundle.getManifest().getMainAttributes().getValue("Import-Package");
            return imports != null && imports.contains("org.postern.smtp.api.dns");
        }
    }
}
