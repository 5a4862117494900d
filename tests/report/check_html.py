#!/usr/bin/env python3
"""check_html.py HWSCOPE FIXTURES - the report's --html page end to end: written for scripted
GPUs (8x H100, throttled + lost, MIG, one H100, none), checked as HTML (balanced tags, nothing
fetched from outside, no script; tidy when installed), then opened in headless Chromium: the DOM
after load holds the three SVG charts with their bars, points and grid cells, the console is
clean, and a screenshot is taken. The quick measurement runs once (--bench) and the second report
reuses the saved figures. Needs $HWSCOPE_FAKE_NVML and $HWSCOPE_FAKE_CUDA (ctest sets them)."""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
SVG_SELF_CLOSING = {"rect", "circle", "line", "polyline", "path"}


def fail(msg):
    print("check_html: " + msg, file=sys.stderr)
    sys.exit(1)


class Strict(html.parser.HTMLParser):
    """Balanced tags, counts of SVG elements, and anything that would reach outside the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.counts, self.ids, self.errors = [], {}, set(), []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            value = value or ""
            if name == "id":
                self.ids.add(value)
            if name in ("src", "href", "xlink:href", "action") or "url(" in value:
                self.errors.append(f"<{tag} {name}={value!r}> refers outside the page")
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.errors.append(f"<{tag}> in a self-contained page")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style" and ("@import" in data or "url(" in data):
            self.errors.append("the style sheet imports or fetches")


def parse(text, what):
    p = Strict()
    p.feed(text)
    p.close()
    if not text.startswith("<!DOCTYPE html>"):
        p.errors.append("no <!DOCTYPE html>")
    if p.stack:
        p.errors.append("unclosed: " + " ".join(p.stack))
    if p.errors:
        fail(f"{what}: " + "; ".join(p.errors[:5]))
    return p


def run(binary, env, *args):
    r = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"hwscope {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def chromium(url, tmp, *extra):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        fail("chromium is not installed (scripts/deps.sh installs it)")
    profile = tempfile.mkdtemp(dir=tmp)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *extra, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    if r.returncode != 0:
        fail(f"chromium {' '.join(extra)}: exit {r.returncode}: {r.stderr[-2000:]}")
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    if console:
        fail("console messages: " + "\n".join(console))
    return r.stdout


def main():
    binary, fixtures = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="hws_html_")
    try:
        base = dict(os.environ, HWSCOPE_NVML_LIB=os.environ["HWSCOPE_FAKE_NVML"],
                    HWSCOPE_CUDA_LIB=os.environ["HWSCOPE_FAKE_CUDA"],
                    HWSCOPE_CEILINGS=os.path.join(tmp, "ceilings.json"), COLUMNS="100")
        pages = {}
        for script in ("h100-8", "throttled", "mig", "h100-1", "none"):
            env = dict(base, HWSCOPE_FAKE_GPUS=os.path.join(fixtures, "gpus", script + ".txt"))
            page = os.path.join(tmp, script + ".html")
            mode = "--bench" if script == "h100-8" else "--no-bench"
            out = run(binary, env, "report", mode, "--html", page)
            if script == "h100-8":
                if "measured now" not in out:
                    fail("--bench did not measure:\n" + out)
                doc = json.loads(run(binary, env, "report", "--json"))
                if doc["measured"]["state"] != "saved" or len(doc["measured"]["figures"]) < 2:
                    fail("the second report did not reuse the saved figures: " +
                         json.dumps(doc["measured"])[:500])
            with open(page, encoding="utf-8") as f:
                pages[script] = f.read()
            p = parse(pages[script], script)
            for chart in ("chart-measured", "chart-roofline", "chart-fit"):
                if chart not in p.ids:
                    fail(f"{script}: no #{chart}")
            if shutil.which("tidy"):
                t = subprocess.run(["tidy", "-q", "-e", page], capture_output=True, text=True)
                if t.returncode >= 2:
                    fail(f"tidy: {script}: {t.stderr[:2000]}")
        # the lost GPU's reason is on the page, escaped text only
        if "fell off the bus" not in pages["throttled"] or "nan" in pages["throttled"].split(
                "<body>")[1].replace("nano", ""):
            fail("throttled: the lost GPU is not said, or a nan is printed")
        if "a process sees one slice" not in pages["mig"]:
            fail("mig: the MIG verdict is missing")
        src = parse(pages["h100-8"], "h100-8")
        url = "file://" + os.path.join(tmp, "h100-8.html")
        dump = chromium(url, tmp, "--dump-dom")  # the outer HTML after load, no doctype
        dom = parse("<!DOCTYPE html>" + dump, "DOM after load")
        for tag in ("svg", "rect", "circle", "polyline", "text"):
            if dom.counts.get(tag, 0) != src.counts.get(tag, 0) or src.counts.get(tag, 0) == 0:
                fail(f"DOM after load has {dom.counts.get(tag, 0)} <{tag}>, the page "
                     f"{src.counts.get(tag, 0)}")
        if dom.counts["svg"] != 3 or dom.counts["circle"] < 10 or dom.counts["rect"] < 60:
            fail(f"too few chart elements: {dom.counts}")
        shot = os.environ.get("HWSCOPE_HTML_SHOT") or os.path.join(tmp, "page.png")
        chromium(url, tmp, f"--screenshot={shot}", "--window-size=1280,2000")
        with open(shot, "rb") as f:
            png = f.read()
        if not png.startswith(b"\x89PNG") or len(png) < 20000:
            fail(f"screenshot {shot}: {len(png)} bytes, not a page")
        print(f"check_html: 5 pages valid; DOM {dom.counts['svg']} charts, {dom.counts['rect']} "
              f"rects, {dom.counts['circle']} points; screenshot {len(png)} bytes")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
