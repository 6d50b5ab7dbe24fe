#!/usr/bin/python3
"""Writes tests/data/buildbot/golden/: what pulsetranslator publishes for each fixture.

An independent transcription of the rules of mozilla-services/pulsetranslator (pulsetranslator.py,
messageparams.py, loghandler.py at their last public versions) in plain Python, kept apart from
the C++ normalizer on purpose: the goldens are the oracle, the C++ code is what is tested.
The clock is fixed (NOW below), so `timestamp` and `insertion_time` are stable. buildid dates are
read as UTC (pulsetranslator used time.mktime, i.e. the server's zone; its servers ran in UTC).

Usage: make_goldens.py            (re)writes every golden
       make_goldens.py --check    exits 1 when a golden differs from what the rules give
"""
import calendar
import copy
import datetime
import json
import os
import re
import sys

NOW = 1446638400  # 2015-11-04T12:00:00Z
HERE = os.path.dirname(os.path.abspath(__file__))

BUILDTYPES = ['opt', 'debug', 'pgo']
PLATFORMS = {
    'emulator': ['emulator', 'ubuntu64_vm-b2g-emulator'],
    'emulator-kk': ['emulator-kk'],
    'emulator-jb': ['emulator-jb'],
    'linux64-asan': ['linux64-asan', 'ubuntu64-asan_vm', 'ubuntu64-asan_vm_lnx_large'],
    'linux32_gecko': ['linux32_gecko', 'ubuntu32_vm-b2gdt'],
    'linux64_gecko': ['linux64_gecko', 'ubuntu64_vm-b2gdt'],
    'linux64-rpm': ['fedora64'],
    'linux64': ['fedora64', 'ubuntu64', 'ubuntu64_hw', 'ubuntu64_vm', 'ubuntu64_vm_lnx_large'],
    'linux64-mulet': ['linux64-mulet', 'ubuntu64_vm-mulet'],
    'linuxqt': ['fedora'],
    'linux-rpm': ['fedora'],
    'linux': ['fedora', 'linux', 'ubuntu32', 'ubuntu32_vm', 'ubuntu32_hw'],
    'win32': ['xp', 'xp_ix', 'win7', 'win8', 'win7-ix', 'xp-ix', 'win7_ix', 'win7_vm',
              'win7_vm_gfx'],
    'win32_gecko': ['win32_gecko'],
    'win32-mulet': ['win32-mulet'],
    'win64': ['w764', 'win8_64'],
    'macosx64': ['macosx64', 'snowleopard', 'leopard', 'lion', 'mountainlion', 'yosemite'],
    'macosx64_gecko': ['macosx64_gecko', 'mountainlion-b2gdt'],
    'macosx64-mulet': ['macosx64-mulet'],
    'macosx': ['macosx', 'leopard'],
    'android-armv6': ['ubuntu64_vm_armv6_mobile', 'ubuntu64_vm_armv6_large'],
    'android-x86': ['android-x86', 'ubuntu64_hw'],
    'android': ['panda_android', 'ubuntu64_vm_mobile', 'ubuntu64_vm_large'],
    'android-api-9': ['ubuntu64_vm_mobile', 'ubuntu64_vm_large'],
    'android-api-10': ['panda_android'],
    'android-api-11': ['panda_android', 'ubuntu64_vm_armv7_large', 'ubuntu64_vm_armv7_mobile'],
    'ics_armv7a_gecko': ['ubuntu64-b2g'],
}
IGNORED_PLATFORMS = ['dolphin', 'dolphin_eng', 'dolphin-512', 'emulator-l', 'flame-kk',
                     'flame-kk_eng', 'linux64-b2g-haz', 'linux64-st-an', 'macosx64-st-an',
                     'nexus-4', 'nexus-4_eng', 'nexus-5-l', 'nexus-5-l_eng']
TAGS = ['', 'build', 'dep', 'dtrace', 'l10n', 'nightly', 'nomethodjit', 'notracejit', 'release',
        'shark', 'spidermonkey', 'valgrind', 'warnaserr', 'warnaserrdebug', 'xulrunner', 'arm',
        'compacting', 'plain', 'plaindebug', 'rootanalysis', 'sim']


def guess_platform(key):
    for p in sorted(PLATFORMS, reverse=True):
        if p in key:
            return p
    for p in PLATFORMS:  # literal order (Python 2's dict order was arbitrary)
        for os_name in PLATFORMS[p]:
            if os_name in key:
                return os_name
    return None


def convert_os(data):
    name = data['buildername']
    for pattern, result in [(r'OS\s*X\s*10.5', 'leopard'), (r'OS\s*X\s*10.6', 'snowleopard'),
                            (r'OS\s*X\s*10.7', 'lion'), (r'OS\s*X\s*10.8', 'mountainlion'),
                            (r'WINNT\s*5.2', 'xp')]:
        if re.search(pattern, name, re.I):
            return result
    return 'unknown'


OS_CONVERSIONS = {'leopard-o': lambda d: 'leopard', 'yosemite_r7': lambda d: 'yosemite',
                  'tegra_android-o': lambda d: 'tegra_android', 'macosx': convert_os,
                  'macosx64': convert_os, 'win32': convert_os}


def buildid_epoch(buildid):
    return calendar.timegm(datetime.datetime.strptime(buildid, '%Y%m%d%H%M%S').timetuple())


class Drop(Exception):
    pass


def publish_key(data):
    orig = data['key'].split('.')[1]
    if data.get('test'):
        product = data['product'] if data['product'] else 'unknown'
        parts = ['talos' if data['talos'] else 'unittest', data['tree'], data['platform'],
                 data['os'], data['buildtype'], data['test'], product, orig]
    else:
        parts = ['build', data['tree'], data['platform'], data['buildtype']]
        for tag in data['tags']:
            if tag:
                parts.append(tag)
            if tag == 'l10n':
                parts.append(data['locale'])
        parts.append(orig)
    return '.'.join(parts)


def emit(out, data):
    if not data.get('logurl'):  # loghandler.process_data: nothing to wait for, nothing sent
        return
    out.append({'routing_key': publish_key(data), 'payload': data})


def process_build(out, data):
    if data['platform'] in IGNORED_PLATFORMS:
        return
    if data['platform'] not in PLATFORMS:
        raise Drop('bad platform')
    for tag in data['tags']:
        if tag not in TAGS:
            raise Drop('bad tag')
    if not data['buildurl'] and not data['repack']:
        raise Drop('no build url')
    emit(out, data)


def normalize(msg):
    out = []
    try:
        normalize_into(out, msg)
    except Drop:
        pass
    return out


def normalize_into(out, msg):
    key = msg['_meta']['routing_key']
    stage_platform = None
    now_text = datetime.datetime.utcfromtimestamp(NOW).strftime('%Y-%m-%dT%H:%M:%SZ')
    b = dict.fromkeys(['job_number', 'buildid', 'build_number', 'previous_buildid', 'status',
                       'platform', 'builddate', 'buildurl', 'locale', 'locales', 'logurl',
                       'testsurl', 'test_packages_url', 'release', 'buildername', 'slave',
                       'repack', 'revision', 'product', 'version', 'tree'])
    b['key'] = key
    b['timestamp'] = now_text
    simple = {'previous_buildid': 'previous_buildid', 'build_number': 'build_number',
              'locale': 'locale', 'locales': 'locales', 'packageUrl': 'buildurl',
              'build_url': 'buildurl', 'fileURL': 'buildurl', 'log_url': 'logurl',
              'en_revision': 'release', 'script_repo_revision': 'release', 'testsUrl': 'testsurl',
              'testPackagesUrl': 'test_packages_url', 'buildername': 'buildername',
              'slavename': 'slave', 'completeMarUrl': 'completemarurl',
              'completeMarHash': 'completemarhash', 'version': 'version'}
    for name, value, *_ in msg['payload']['build']['properties']:
        if name == 'buildnumber':
            b['job_number'] = value
        if name == 'revision':
            b['revision'] = value
        elif name == 'product':
            b['product'] = value.lower()
        elif name == 'branch':
            b['tree'] = os.path.basename(value) if isinstance(value, str) else value
        elif name == 'buildid':
            b['buildid'] = value
            b['builddate'] = buildid_epoch(value)
        elif name == 'platform':
            b['platform'] = value
            if value and '-debug' in value:
                b['platform'] = value[0:value.find('-debug')]
        elif name == 'blobber_files':
            try:
                b['blobber_files'] = json.loads(value)
            except ValueError:
                pass
        elif name == 'stage_platform':
            stage_platform = value
            for t in BUILDTYPES:
                if t in stage_platform:
                    stage_platform = stage_platform[0:stage_platform.find(t) - 1]
        elif name in simple:
            b[simple[name]] = value
    if not b['tree']:
        raise Drop('no branch')
    if not b['locale']:
        b['locale'] = 'en-US'
    b['status'] = msg['payload']['build']['results']
    b['buildtype'] = 'debug' if 'debug' in key else 'pgo' if 'pgo' in key else 'opt'

    m = re.match(r'build\.((%s)[-|_](.*?)(-debug|-o-debug|-pgo|_pgo|_test)?[-|_](test|unittest|pgo)'
                 r'-(.*?))\.(\d+)\.(log_uploaded|finished)' % b['tree'], key)
    if m:
        if m.group(8) == 'finished':
            return
        b['os'] = m.group(3)
        if b['os'] in OS_CONVERSIONS:
            b['os'] = OS_CONVERSIONS[b['os']](b)
        b['test'] = m.group(6)
        b['talos'] = 'talos' in b['buildername']
        if stage_platform:
            b['platform'] = stage_platform
        b['insertion_time'] = NOW
        if b['platform'] in IGNORED_PLATFORMS:
            return
        if not b.get('logurl'):
            raise Drop('no log url')
        if b['platform'] not in PLATFORMS:
            raise Drop('bad platform')
        if b['os'] not in PLATFORMS[b['platform']]:
            raise Drop('bad os')
        emit(out, b)
        return
    if 'source' in key:
        return
    if [x for x in ['schedulers', 'tag', 'submitter', 'final_verification', 'fuzzer'] if x in key]:
        return
    if 'jetpack' in key:
        return
    if not b['platform']:
        b['platform'] = stage_platform or guess_platform(key)
        if not b['platform']:
            raise Drop('no platform')
    m = re.match(r'build\.((release-|jetpack-|b2g_)?(%s)[-|_](xulrunner[-|_])?(%s)([-|_]?)(.*?))'
                 r'\.(\d+)\.(log_uploaded|finished)' % (b['tree'], b['platform']), key)
    if not m:
        raise Drop('unknown message type')
    if 'finished' in m.group(9):
        return
    tags = m.group(7).replace('_', '-').split('-')
    tags = [x for x in tags if x not in ['debug', 'pgo', 'opt', 'repack']]
    tags = [x for x in tags if not x.isdigit()]
    if isinstance(m.group(2), str):
        if 'release' in m.group(2):
            tags.append('release')
        if 'jetpack' in m.group(2):
            tags.append('jetpack')
    b['tags'] = tags
    if m.group(4) or 'xulrunner' in tags:
        b['product'] = 'xulrunner'
    if 'emulator' in b['platform'] and 'try' not in key and b['buildid']:
        b['buildurl'] = ('https://pvtbuilds.mozilla.org/pub/mozilla.org/b2g/tinderbox-builds'
                         '/%s-%s/%s/emulator.tar.gz' % (b['tree'], b['platform'], b['buildid']))
    if 'repack' in key:
        b['repack'] = True
        if not b['locales']:
            raise Drop('no locales')
        for locale in b['locales'].split(','):
            if not locale:
                raise Drop('bad locales')
            one = copy.deepcopy(b)
            one['locale'] = locale
            process_build(out, one)
    else:
        process_build(out, b)


def main():
    check = '--check' in sys.argv[1:]
    differ = 0
    for sub in sorted(os.listdir(HERE)):
        d = os.path.join(HERE, sub)
        if sub == 'golden' or not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith('.json'):
                continue
            with open(os.path.join(d, name)) as f:
                msg = json.load(f)
            golden = {'outputs': normalize(msg)}
            text = json.dumps(golden, indent=2, sort_keys=True) + '\n'
            path = os.path.join(HERE, 'golden', sub, name)
            if check:
                old = open(path).read() if os.path.exists(path) else None
                if old != text:
                    print('differs:', path)
                    differ += 1
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
