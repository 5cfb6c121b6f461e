"""Word-for-word English glosses of prompts in other languages, for the guard's rules and encoder.

The rules and the learned heads read English. A prompt written in one of the glossaries' languages gets a gloss
of its harm, target, intent and common driving words (:func:`gloss` for Latin-script languages, detected by
their function words; :func:`script_gloss` for Russian, Chinese and Japanese), which ``normalize`` adds as one
more reading. A gloss is not a translation: word order stays and unknown words stay as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WHITESPACE = re.compile(r"\s+")


# -- other languages -------------------------------------------------------------------------------------
# Whole prompts in another language ("El conductor acelera a propósito contra la multitud") carry none of the
# English words the rules and the heads read. A prompt whose function words mark it as one of these languages
# also gets a word-for-word English gloss of its harm, target, intent and common driving vocabulary, read as
# one more variant (the rules' English frames then apply) and as the encoder's reading (the heads were trained
# on English; a foreign sentence reads as noise to them, in both directions). The gloss is not a translation:
# word order stays, unknown words stay as written. Keys are folded (no accents, lower case); "stem*" matches any
# ending, a key with spaces is a phrase; the longest key wins. Markers are frequent words of the language that
# are not English words (two distinct ones are needed), so an English prompt is not glossed.
_MARKERS = {
    "es": "junto coche coches lleno llena el la los las una unos unas del por en y dos para que contra desde sobre "
          "hacia muy sus su se al esta estan "
          "es cuando mientras pero hasta frente detras luego entre como donde despues genera muestra",
    "pt": "o e os uma uns umas dos das na em sem nas pela pelo pelos pelas para que contra ao seu sua depois nao sao "
          "esta estao quando enquanto frente atras crie mostre gere",
    "it": "il lo la gli una uno e alla allo alle sulle nelle dalle ai agli tra fra della dello delle degli dei del dal "
          "dalla nel nella sul sulla che contro "
          "verso dopo mentre quando poi sono sua suo suoi genera mostra crea di",
    "fr": "le la les une des du au aux en par lui elle ils nous cette derriere devant deux avec pour que qui contre "
          "vers sur dans sous apres quand puis est "
          "sont ses leur leurs genere montre cree et",
    "de": "der das des zwei ein eine einen einem einer und mit gegen auf nach bei wahrend wenn dann "
          "ist sind sein seine ihre vom zum zur ins nicht erzeuge zeig zeige bis",
    "nl": "het een voor tegen naar bij tijdens als zijn haar hun op niet maak toon laat wordt waar dat",
    "pl": "sie jest przez oraz ktory ktora ktore ktorzy nie jak aby zeby przy nad jego jej ich na za pokaz "
          "stworz wygeneruj",
    "tr": "bir ve ile bu icin cok gibi sonra olan kadar daha onu onlari goster olustur uzerine dogru",
}
# the gloss of the words a prompt's harm turns on: people and places as targets, acts, intent, weapons, death;
# with the words of an ordinary driving prompt around them so the encoder reads a sentence, not a keyword list
_GLOSSARY = {
    "es": "junto a=next to; junto al=next to the; escolar=school; lleno*=full; llena*=full; el=the; dos=two; ve=sees; "
          "esta=is; lo mas posible=as many as possible; la=the; los=the; las=the; un=a; una=a; unos=some; unas=some; "
          "del=of the; de=of; al=to the; "
          "con=with; en=in; por=by; para=to; contra=at; hacia=towards; desde=from; sobre=on; y=and; que=that; "
          "frente a=in front of; delante de=in front of; a proposito=on purpose; de proposito=on purpose; "
          "adrede=on purpose; intencionadamente=deliberately; deliberadamente=deliberately; queriendo=on purpose; "
          "atropell*=runs over; arroll*=runs over; embist*=rams; acelera*=accelerates; se lanza=charges; "
          "golpe*=hits; de golpe=suddenly; bateria=battery; ella=her; su=his; patea*=kicks; mata*=kills; "
          "asesin*=murders; dispar*=shoots; apunal*=stabs; "
          "acuchill*=stabs; estrangul*=strangles; ahorc*=hangs; quem*=burns; secuestr*=kidnaps; rapt*=abducts; "
          "agarr*=grabs; arrastr*=drags; empuj*=pushes; lanza*=throws; tira*=throws; explot*=explodes; "
          "bomba*=bomb; coche bomba=car bomb; explosiv*=explosive; pistola*=gun; arma*=gun; cuchillo*=knife; "
          "muert*=dead; muere*=dies; murio=died; matar=kill; cadaver*=corpse; sangre=blood; suicid*=suicide; "
          "quitarse la vida=kill himself; celebr*=celebrates; atacante*=attackers; terrorist*=terrorists; "
          "hombre*=man; mujer*=woman; nino*=child; nina*=girl; chico*=boy; chica*=girl; bebe*=baby; "
          "gente=people; personas=people; persona=person; alguien=someone; multitud*=crowd; muchedumbre*=crowd; "
          "peaton*=pedestrian; ciclista*=cyclist; pasajer*=passenger; conductor*=driver; policia*=police officer; "
          "inmigrante*=immigrants; refugiad*=refugees; manifestante*=protesters; su ex=his ex; escuela*=school; "
          "colegio*=school; mercado*=market; estadio*=stadium; parada*=stop; autobus*=bus; iglesia*=church; "
          "mezquita*=mosque; sinagoga*=synagogue; coche*=car; carro*=car; auto=car; camion*=truck; "
          "furgoneta*=van; moto*=motorbike; bicicleta*=bicycle; carretera*=road; calle*=street; "
          "autopista*=motorway; carril*=lane; arcen*=hard shoulder; cruce*=intersection; puente*=bridge; "
          "noche=night; lluvia=rain; niebla=fog; nieve=snow; atardecer=dusk; amanecer=dawn; frena*=brakes; "
          "accidente*=accident; choque*=crash; perro*=dog; gato*=cat; caballo*=horse; ciervo*=deer; "
          "como=how; explicame=explain; genera=generate; muestra=show; haz=make; video=video; parezca=looks like",
    "pt": "o=the; dois=two; duas=two; esta=is; ve=sees; os=the; as=the; um=a; uma=a; do=of the; da=of the; dos=of the; "
          "das=of the; no=in the; "
          "na=in the; nos=in the; nas=in the; ao=to the; com=with; em=in; pela=by the; pelo=by the; para=to; "
          "contra=at; sobre=on; e=and; que=that; de proposito=on purpose; propositalmente=deliberately; "
          "intencionalmente=deliberately; deliberadamente=deliberately; atropel*=runs over; acelera*=accelerates; "
          "avanca*=advances; bateria=battery; bate*=hits; chuta*=kicks; mata*=kills; assassin*=murders; atira*=shoots; "
          "dispara*=shoots; esfaque*=stabs; estrangul*=strangles; enforc*=hangs; queima*=burns; "
          "sequestr*=kidnaps; rapta*=abducts; agarra*=grabs; arrasta*=drags; empurra*=pushes; joga*=throws; "
          "explod*=explodes; bomba*=bomb; carro-bomba=car bomb; explosiv*=explosive; arma*=gun; faca*=knife; "
          "mort*=dead; morre*=dies; cadaver*=corpse; sangue=blood; suicid*=suicide; persegue*=chases; "
          "foge*=flees; homem=man; homens=men; mulher*=woman; crianca*=child; menino*=boy; menina*=girl; "
          "bebe*=baby; gente=people; pessoas=people; pessoa=person; alguem=someone; multidao*=crowd; "
          "pedestre*=pedestrian; ciclista*=cyclist; passageir*=passenger; motorista*=driver; policia*=police "
          "officer; imigrante*=immigrants; refugiad*=refugees; manifestante*=protesters; ratos=rats; "
          "escola*=school; mercado*=market; estadio*=stadium; ponto de onibus=bus stop; onibus=bus; "
          "igreja*=church; mesquita*=mosque; carro*=car; caminhao=truck; caminhoes=trucks; van=van; moto*=motorbike; "
          "bicicleta*=bicycle; estrada*=road; rua*=street; rodovia*=motorway; faixa*=lane; acostamento=hard "
          "shoulder; cruzamento*=intersection; ponte*=bridge; noite=night; chuva=rain; neblina=fog; neve=snow; "
          "entardecer=dusk; amanhecer=dawn; freia*=brakes; acidente*=accident; cachorro*=dog; cao=dog; "
          "gato*=cat; cavalo*=horse; ate a morte=to death; crie=create; mostre=show; gere=generate; video=video",
    "it": "il=the; due=two; vede=sees; sotto=under; il piu possibile=as many as possible; lo=the; la=the; i=the; "
          "gli=the; le=the; l=the; un=a; uno=a; una=a; della=of the; "
          "dello=of the; delle=of the; degli=of the; dei=of the; del=of the; dell=of the; dal=from the; "
          "dalla=from the; nel=in the; nella=in the; sul=on the; sulla=on the; alla=at the; al=at the; "
          "all=at the; con=with; per=to; contro=at; verso=towards; davanti a=in front of; e=and; che=that; "
          "di=of; in=in; su=on; apposta=on purpose; di proposito=on purpose; deliberatamente=deliberately; "
          "intenzionalmente=deliberately; investe*=runs over; investi*=run over; travolg*=runs over; "
          "accelera*=accelerates; si lancia=charges; colpisc*=hits; prende a calci=kicks; uccid*=kills; "
          "ammazz*=kills; spara*=shoots; accoltell*=stabs; strangol*=strangles; impicc*=hangs; brucia*=burns; "
          "rapisc*=kidnaps; rapit*=kidnapped; rapire=kidnap; sequestr*=kidnaps; trascin*=drag; afferr*=grabs; "
          "spinge*=pushes; "
          "getta*=throws; esplod*=explodes; bomba*=bomb; autobomba=car bomb; esplosiv*=explosive; "
          "pistola*=gun; arma*=gun; coltell*=knife; mort*=dead; muore=dies; cadaver*=corpse; sangue=blood; "
          "suicid*=suicide; celebra*=celebrates; attentator*=attackers; terrorist*=terrorists; uomo=man; "
          "uomini=men; donna=woman; donne=women; bambin*=child; ragazzo*=boy; ragazza*=girl; gente=people; "
          "persone=people; persona=person; qualcuno=someone; folla=crowd; pedone*=pedestrian; pedoni=pedestrians; "
          "ciclista*=cyclist; passegger*=passenger; autista*=driver; conducente*=driver; poliziott*=police "
          "officer; immigrat*=immigrants; profugh*=refugees; manifestant*=protesters; sua ex=his ex; "
          "scuola*=school; mercato*=market; stadio*=stadium; fermata*=stop; autobus=bus; chiesa*=church; "
          "moschea*=mosque; auto=car; macchina*=car; camion*=truck; furgone*=van; moto*=motorbike; "
          "bici*=bicycle; strada*=road; via=street; autostrada*=motorway; corsia*=lane; corsia d emergenza=hard "
          "shoulder; incrocio*=intersection; ponte*=bridge; notte=night; pioggia=rain; nebbia=fog; neve=snow; "
          "tramonto=sunset; alba=dawn; frena*=brakes; incidente*=accident; cane*=dog; gatto*=cat; cavallo*=horse; "
          "cervo*=deer; capriolo*=roe deer; finestrino=window; scappa*=flee; genera=generate; mostra=show; "
          "crea=create; video=video",
    "fr": "le=the; deux=two; voit=sees; le plus possible=as many as possible; la=the; les=the; l=the; un=a; une=a; "
          "des=some; du=of the; de=of; d=of; au=to the; aux=to the; "
          "avec=with; pour=to; contre=against; vers=towards; sur=on; dans=into; sous=under; et=and; qui=who; "
          "que=that; devant=in front of; expres=on purpose; volontairement=deliberately; deliberement=deliberately; "
          "intentionnellement=deliberately; a dessein=on purpose; ecrase*=runs over; renvers*=knocks down; "
          "fonce*=charges; accelere*=accelerates; frappe*=hits; tabasse*=beats; tue*=kills; tuer=kill; "
          "assassin*=murders; tire sur=shoots at; tirent sur=shoot at; poignard*=stabs; etrangl*=strangles; "
          "pend*=hangs; pendant=during; brule*=burns; enleve*=abducts; enlev*=abducts; kidnapp*=kidnaps; "
          "attrap*=grabs; "
          "emmene*=takes; emmenent=take; de force=by force; traine*=drags; pousse*=pushes; jette*=throws; "
          "explos*=explodes; bombe*=bomb; voiture piegee=car bomb; arme*=gun; pistolet*=gun; couteau*=knife; "
          "mort*=dead; meurt=dies; cadavre*=corpse; sang=blood; suicid*=suicide; celebr*=celebrates; "
          "terroriste*=terrorists; homme*=man; femme*=woman; enfant*=child; garcon*=boy; fille*=girl; "
          "petite fille=little girl; bebe*=baby; gens=people; personne*=person; quelqu un=someone; foule*=crowd; "
          "pieton*=pedestrian; cycliste*=cyclist; passager*=passenger; conducteur*=driver; chauffeur*=driver; "
          "policier*=police officer; immigre*=immigrants; migrant*=migrants; refugie*=refugees; "
          "manifestant*=protesters; ecole*=school; marche*=market; stade*=stadium; arret*=stop; bus=bus; "
          "eglise*=church; mosquee*=mosque; voiture*=car; camion*=truck; camionnette*=van; moto*=motorbike; "
          "velo*=bicycle; route*=road; rue*=street; autoroute*=motorway; voie*=lane; trottoir*=pavement; "
          "carrefour*=intersection; pont*=bridge; nuit=night; pluie=rain; brouillard=fog; neige=snow; "
          "crepuscule=dusk; aube=dawn; freine*=brakes; accident*=accident; chien*=dog; chat=cat; chats=cats; "
          "cheval=horse; cerf*=deer; defile*=parade; genere=generate; montre=show; cree=create; video=video",
    "de": "der=the; zwei=two; sieht=sees; ihm=him; ihn=him; er=he; sie=her; fahrt=drives; davon=off; so viele wie "
          "moglich=as many as possible; die=the; das=the; den=the; dem=the; des=of the; ein=a; eine=a; einen=a; "
          "einem=a; einer=a; "
          "und=and; mit=with; fur=for; gegen=against; auf=on; in=into; im=in the; ins=into the; vom=from the; "
          "von=from; zum=to the; zur=to the; vor=in front of; bis=until; absichtlich=deliberately; "
          "mit absicht=on purpose; vorsatzlich=deliberately; gezielt=deliberately; bewusst=deliberately; "
          "uberfahr*=runs over; ueberfahr*=runs over; uberrollt=runs over; fahrt in=drives into; "
          "fahrt absichtlich in=drives deliberately into; rast in=speeds into; rast=speeds; rammt=rams; "
          "beschleunigt=accelerates; "
          "schlagt=hits; schlagen=hit; tritt=kicks; treten=kick; totet=kills; toten=kill; ermordet=murders; "
          "erschiesst=shoots; schiesst=shoots; ersticht=stabs; erwurgt=strangles; erhangt=hangs; verbrennt=burns; "
          "entfuhrt=abducts; entfuhren=abduct; packt=grabs; packen=grab; zerrt=drags; zerren=drag; zieht=pulls; "
          "ziehen=pull; schubst=pushes; stosst=pushes; wirft=throws; explodiert=explodes; sprengt=blows up; "
          "autobomb*=car bomb; bombe*=bomb; sprengstoff*=explosive; waffe*=gun; pistole*=gun; messer=knife; "
          "tot=dead; tote=dead; totes=dead; toter=dead; stirbt=dies; leiche*=corpse; blut=blood; "
          "selbstmord=suicide; sich das leben zu nehmen=to kill himself; feiert=celebrates; tater=perpetrators; "
          "attentater=attackers; terrorist*=terrorists; mann=man; manner=men; frau=woman; frauen=women; "
          "kind=child; kinder=children; junge*=boy; madchen=girl; baby*=baby; leute=people; menschen=people; "
          "jemand*=someone; menschenmenge*=crowd; menge=crowd; fussganger*=pedestrian; radfahrer*=cyclist; "
          "beifahrer*=passenger; fahrgast*=passenger; fahrer*=driver; polizist*=police officer; "
          "auslander*=foreigners; fluchtling*=refugees; migrant*=migrants; demonstrant*=protesters; "
          "schule*=school; weihnachtsmarkt*=christmas market; markt*=market; stadion*=stadium; "
          "bushaltestelle*=bus stop; haltestelle*=stop; bahnhof*=station; kirche*=church; moschee*=mosque; "
          "synagoge*=synagogue; auto=car; autos=cars; wagen=car; lkw=truck; lastwagen*=truck; lieferwagen*=van; "
          "transporter*=van; motorrad*=motorbike; fahrrad*=bicycle; rad=bike; strasse*=road; autobahn*=motorway; "
          "spur*=lane; standstreifen*=hard shoulder; kreuzung*=intersection; brucke*=bridge; nacht*=night; "
          "regen=rain; nebel=fog; schnee*=snow; abenddammerung=dusk; sonnenaufgang=sunrise; bremst=brakes; "
          "unfall*=accident; hund*=dog; katze*=cat; pferd*=horse; reh=deer; kopf=head; erzeuge=generate; "
          "zeig=show; zeige=show; video=video",
    "nl": "schiet op=hurry up; de=the; het=the; een=a; en=and; met=with; voor=for; tegen=against; naar=to; bij=at; "
          "op=on; in=into; "
          "van=of; die=who; dat=that; expres=on purpose; met opzet=on purpose; opzettelijk=deliberately; "
          "bewust=deliberately; overrijd*=runs over; rijdt in op=drives into; rijdt op=drives at; "
          "ramt=rams; versnelt=accelerates; slaat=hits; schopt=kicks; doodt=kills; vermoordt=murders; "
          "schiet=shoots; steekt neer=stabs; wurgt=strangles; verbrandt=burns; ontvoer*=abducts; grijpt=grabs; "
          "sleurt=drags; sleept=drags; duwt=pushes; gooit=throws; ontploft=explodes; blaast op=blows up; "
          "autobom*=car bomb; bom=bomb; explosie*=explosion; wapen*=gun; pistool*=gun; mes=knife; dood=dead; "
          "sterft=dies; lijk*=corpse; bloed=blood; zelfmoord=suicide; viert=celebrates; daders=perpetrators; "
          "man=man; mannen=men; vrouw*=woman; kind=child; kinderen=children; jongen*=boy; meisje*=girl; "
          "mensen=people; iemand=someone; menigte*=crowd; mensenmassa*=crowd; voetganger*=pedestrian; "
          "fietser*=cyclist; passagier*=passenger; bestuurder*=driver; chauffeur*=driver; agent*=police officer; "
          "immigrant*=immigrants; vluchteling*=refugees; demonstrant*=protesters; school=school; markt*=market; "
          "stadion*=stadium; bushalte*=bus stop; kerk*=church; moskee*=mosque; auto=car; autos=cars; "
          "vrachtwagen*=truck; busje*=van; fiets=bicycle; weg=road; straat=street; snelweg*=motorway; "
          "rijstrook=lane; vluchtstrook=hard shoulder; kruispunt*=intersection; brug=bridge; nacht=night; "
          "regen=rain; mist=fog; sneeuw=snow; schemering=dusk; remt=brakes; ongeluk*=accident; hond*=dog; "
          "kat=cat; paard*=horse; maak=make; toon=show; laat zien=show",
    "pl": "i=and; z=with; w=in; na=on; do=to; przez=through; przed=in front of; obok=next to; ktory=who; "
          "ktora=who; celowo=deliberately; umyslnie=deliberately; specjalnie=on purpose; z premedytacja=deliberately; "
          "przejech*=runs over; przejezdz*=runs over; potraci*=knocks down; potraca*=knocks down; "
          "wjezdza w=drives into; wjechal w=drove into; wjezdza=drives; taranuj*=rams; przyspiesza=accelerates; "
          "uderza=hits; bije=beats; pobi*=beats; kopie=kicks; zabij*=kills; zabi*=kills; morduj*=murders; "
          "zamordow*=murdered; strzel*=shoots; dzga*=stabs; dzgn*=stabs; udusi*=strangles; dusi=strangles; "
          "powies*=hangs; podpal*=sets fire to; porywa=kidnaps; porwa*=kidnaps; uprowadz*=abducts; "
          "chwyta=grabs; zlapa*=grabs; ciagnie=drags; wciaga=drags; pcha=pushes; wybuch*=explodes; "
          "wysadz*=blows up; bomb*=bomb; samochod pulapka=car bomb; bron=gun; pistolet*=gun; noz*=knife; "
          "martw*=dead; smierc*=death; zgin*=die; umiera=dies; zwlok*=corpse; cial*=body; krew=blood; krwi=blood; "
          "samoboj*=suicide; swietuj*=celebrates; zamachowc*=attackers; terroryst*=terrorists; mezczyzn*=man; "
          "kobiet*=woman; dzieck*=child; dzieci*=children; chlopc*=boy; chlopak*=boy; dziewczyn*=girl; "
          "dziewczynk*=girl; ludzi=people; ludzie=people; kogos=someone; tlum*=crowd; piesz*=pedestrian; "
          "rowerzyst*=cyclist; pasazer*=passenger; kierowc*=driver; policjant*=police officer; "
          "imigrant*=immigrants; uchodzc*=refugees; demonstrant*=protesters; szkol*=school; targ*=market; "
          "jarmark*=market; stadion*=stadium; przystank*=bus stop; kosciol*=church; meczet*=mosque; "
          "samochod*=car; auto=car; ciezarowk*=truck; furgonetk*=van; motocykl*=motorbike; rower*=bicycle; "
          "drog*=road; ulic*=street; autostrad*=motorway; pas*=lane; pobocz*=hard shoulder; skrzyzowani*=intersection; "
          "most*=bridge; noc*=night; deszcz*=rain; mgl*=fog; snieg*=snow; zmierzch*=dusk; hamuje=brakes; "
          "wypad*=accident; pies=dog; psa=dog; kot*=cat; kon=horse; pokaz=show; stworz=create; "
          "wygeneruj=generate; wideo=video",
    "tr": "bir=a; ve=and; ile=with; icin=to; uzerine=at; dogru=towards; icine=into; onu=him; onlari=them; "
          "kasten=deliberately; bilerek=deliberately; kasitli*=deliberately; isteyerek=on purpose; "
          "ez*=runs over; carp*=hits; dalar=charges into; daldi=charged into; daliyor=charges into; gaza bas*=floors "
          "it; hizlan*=accelerates; vur*=hits; "
          "tekmele*=kicks; dov*=beats; oldur*=kills; ates et*=shoots; bicakla*=stabs; bogar*=strangles; "
          "bogdu=strangled; asar=hangs; asti=hanged; asiyor=hangs; yakar=burns; yakti=burned; yakiyor=burns; "
          "kacir*=kidnaps; kapar*=grabs; surukle*=drags; iter=pushes; itti=pushed; itiyor=pushes; "
          "patla*=explodes; havaya uc*=blows up; bomba*=bomb; bomba yuklu arac=car bomb; silah*=gun; "
          "tabanca*=gun; bicak*=knife; olu=dead; olum*=death; ceset*=corpse; kan=blood; "
          "intihar*=suicide; kutla*=celebrates; saldirgan*=attackers; terorist*=terrorists; adam*=man; "
          "erkek*=man; kadin*=woman; cocuk*=child; cocug*=child; oglan*=boy; kiz=girl; kizi=girl; kiza=girl; "
          "kizlar*=girls; bebek*=baby; "
          "insan*=people; birini=someone; kalabalik*=crowd; kalabalig*=crowd; yaya*=pedestrian; "
          "bisikletli*=cyclist; yolcu*=passenger; sofor*=driver; surucu*=driver; polis*=police officer; "
          "gocmen*=immigrants; multeci*=refugees; gostericiler*=protesters; okul*=school; pazar*=market; "
          "stadyum*=stadium; durak*=stop; otobus*=bus; kilise*=church; cami*=mosque; araba*=car; arac*=vehicle; "
          "kamyon*=truck; minibus*=van; motosiklet*=motorbike; bisiklet*=bicycle; yol*=road; cadde*=street; "
          "otoyol*=motorway; serit*=lane; kopru*=bridge; gece*=night; yagmur*=rain; sis*=fog; kar=snow; "
          "frenle*=brakes; fren yap*=brakes; kaza*=accident; kopek*=dog; kedi*=cat; goster=show; "
          "olustur=create; video=video",
}
_GLOSS_TOKEN = re.compile(r"[a-z]+")
# separators a phrase key may span ("quelqu'un", "carro-bomba", "corsia d'emergenza")
_PHRASE_GAP = re.compile(r"[\s'\-]+")


@dataclass(frozen=True)
class _Glossary:
    """One language's gloss: exact words, stems ("stem*", longest first) and phrases (as word keys)."""

    markers: frozenset[str]
    words: dict[str, str]
    stems: tuple[tuple[str, str], ...]
    phrases: tuple[tuple[tuple[str, ...], str], ...]  # most words first

    @classmethod
    def parse(cls, markers: str, entries: str) -> _Glossary:
        words, stems, phrases = {}, [], []
        for entry in entries.split(";"):
            key, value = (part.strip() for part in entry.split("="))
            parts = tuple(key.split())
            if len(parts) > 1:
                phrases.append((parts, value))
            elif key.endswith("*"):
                stems.append((key[:-1], value))
            else:
                words[key] = value
        return cls(frozenset(markers.split()), words, tuple(sorted(stems, key=lambda s: -len(s[0]))),
                   tuple(sorted(phrases, key=lambda p: -len(p[0]))))

    def knows(self, word: str) -> bool:
        return word in self.words or any(word.startswith(s) for s, _ in self.stems)

    def word(self, word: str) -> str | None:
        if word in self.words:
            return self.words[word]
        return next((v for s, v in self.stems if word.startswith(s)), None)


def _key_matches(key: str, word: str) -> bool:
    return word.startswith(key[:-1]) if key.endswith("*") else word == key


_GLOSSARIES = {lang: _Glossary.parse(_MARKERS[lang], entries) for lang, entries in _GLOSSARY.items()}


def language(folded: str) -> str | None:
    """The language of the glossary whose marker words the prompt holds (two or more), else None.

    Languages share markers ("que", "contra"); the tie goes to the one whose glossary knows more of the words.
    """
    tokens = set(_GLOSS_TOKEN.findall(folded))
    best, best_score = None, (2, 0)
    for lang, g in _GLOSSARIES.items():
        markers = len(g.markers.intersection(tokens))  # distinct: "e-bike and e-scooter" is one "e"
        if markers < 2:
            continue
        score = (markers, sum(g.knows(t) for t in tokens))
        if score >= best_score and (best is None or score > best_score):
            best, best_score = lang, score
    return best


def gloss(folded: str) -> str | None:
    """The word-for-word English gloss of a prompt in one of the glossaries' languages (see ``_GLOSSARY``);
    None for any other prompt."""
    lang = language(folded)
    if lang is None:
        return None
    g = _GLOSSARIES[lang]
    tokens = list(_GLOSS_TOKEN.finditer(folded))
    out, pos, i = [], 0, 0
    while i < len(tokens):
        tok = tokens[i]
        value, used = None, 1
        for parts, v in g.phrases:  # a phrase: consecutive words with only spaces, apostrophes or hyphens between
            n = len(parts)
            run = tokens[i:i + n]
            if (len(run) == n and all(_key_matches(k, t.group(0)) for k, t in zip(parts, run))
                    and all(_PHRASE_GAP.fullmatch(folded[a.end():b.start()]) for a, b in zip(run, run[1:]))):
                value, used = v, n
                break
        if value is None:
            value = g.word(tok.group(0))
        out.append(folded[pos:tok.start()])
        end = tokens[i + used - 1].end()
        if value is None:
            out.append(folded[tok.start():end])
        else:
            out.append(value)
            if folded[end:end + 1] == "'":  # an elided article ("l'autista"): the gloss is a word of its own
                out.append(" ")
                end += 1
        pos, i = end, i + used
    out.append(folded[pos:])
    return _WHITESPACE.sub(" ", "".join(out)).strip()


# -- languages of other scripts ---------------------------------------------------------------------------
# Russian, Chinese and Japanese prompts (or words of them inside an English sentence) carry none of the English
# words the rules read, and ``fold`` maps Cyrillic letters to their Latin look-alikes, which turns a Russian word
# into noise. They get a gloss of their harm, target, intent and driving vocabulary read from the text before the
# look-alikes are mapped: Russian word by word ("stem*" matches any ending, as above), Chinese and Japanese by the
# longest known run of characters (their words are not spaced). Unknown Cyrillic words and unknown CJK characters
# are dropped from the gloss; Latin text around them stays. A word written in mixed Cyrillic and Latin letters
# ("реdestrіаns", the look-alike trick) is not a Russian word and is left to ``fold``.
_RU_GLOSSARY = (
    "водител*=driver; шофер*=driver; шофёр*=driver; специально=deliberately; нарочно=on purpose; "
    "намеренно=deliberately; умышленно=deliberately; сознательно=deliberately; давит=runs over; давят=run over; "
    "давить=run over; задави*=runs over; раздави*=crushes; сбива*=knocks down; сбил*=hit; сбит*=struck; "
    "наезжа*=runs over; наехал*=ran over; переезжа*=runs over; переехал*=ran over; въезжа*=drives into; "
    "въехал*=drove into; врезает*=crashes into; врезал*=crashed into; таран*=rams; разгоняет*=accelerates; "
    "бьет=beats; бьёт=beats; избива*=beats; избил*=beat; пина*=kicks; убива*=kills; убил*=killed; убит*=killed; "
    "убей=kill; убить=kill; застрел*=shoots dead; стреля*=shoots; выстрел*=shot; зареза*=stabs; "
    "ударил* ножом=stabs; душит=strangles; задуши*=strangles; повеси*=hangs; сжига*=burns; сжег*=burned; "
    "поджига*=sets fire to; подожг*=set fire to; похища*=kidnaps; похитил*=kidnapped; похищен*=kidnapped; "
    "хвата*=grabs; схвати*=grabs; тащит=drags; затаскива*=drags; взрыва*=blows up; взорв*=blows up; "
    "взрыв*=explosion; бомб*=bomb; заминирован*=car bomb; оружи*=gun; пистолет*=gun; автомат*=rifle; нож=knife; "
    "ножом=knife; ножа=knife; мертв*=dead; мёртв*=dead; смерт*=death; погиб*=killed; умира*=dies; труп*=corpse; "
    "тело=body; тела=body; телом=body; кров*=blood; кишк*=guts; внутренност*=entrails; изуродован*=mutilated; "
    "расчлен*=dismembered; оторван*=severed; самоубийств*=suicide; покончить с собой=kill himself; "
    "празднует=celebrates; террорист*=terrorists; мужчин*=man; женщин*=woman; ребен*=child; ребён*=child; "
    "дети=children; детей=children; детьми=children; мальчик*=boy; девочк*=girl; люди=people; людей=people; "
    "толп*=crowd; пешеход*=pedestrian; велосипедист*=cyclist; пассажир*=passenger; полицейск*=police officer; "
    "мигрант*=migrants; беженц*=refugees; евре*=jews; мусульман*=muslims; школ*=school; рын*=market; "
    "останов*=stop; автобус*=bus; церк*=church; мечет*=mosque; машин*=car; автомобил*=car; грузовик*=truck; "
    "фургон*=van; мотоцикл*=motorbike; велосипед*=bicycle; дорог*=road; улиц*=street; шоссе=motorway; "
    "трасс*=motorway; перекрест*=intersection; мост*=bridge; ноч*=night; дожд*=rain; туман*=fog; снег*=snow; "
    "тормоз*=brakes; авари*=accident; дтп=crash; собак*=dog; кошк*=cat; кот=cat; кота=cat; олен*=deer; "
    "покажи=show; создай=create; сгенерируй=generate; видео=video; крупным планом=close-up; асфальт*=asphalt; "
    "на=on; в=in; во=in; и=and; с=with; со=with; к=towards; по=along; под=under; через=through; перед=in front of"
)
_CJK_GLOSSARY = (
    # Chinese (simplified and traditional)
    "司机=driver; 司機=driver; 驾驶员=driver; 駕駛員=driver; 故意=deliberately; 蓄意=deliberately; 有意=on purpose; "
    "开车=drives; 開車=drives; 冲进=rams into; 衝進=rams into; 冲向=charges at; 衝向=charges at; 撞倒=knocks down; "
    "撞死=kills; 撞向=rams; 撞进=rams into; 撞=hits; 碾压=runs over; 碾壓=runs over; 碾过=runs over; 轧死=runs over; "
    "杀死=kills; 殺死=kills; 杀=kill; 殺=kill; 谋杀=murder; 謀殺=murder; 开枪=shoots; 開槍=shoots; 射杀=shoots dead; "
    "射殺=shoots dead; 枪=gun; 槍=gun; 刀=knife; 捅=stabs; 刺死=stabs; 砍=hacks; 炸弹=bomb; 炸彈=bomb; "
    "汽车炸弹=car bomb; 汽車炸彈=car bomb; 爆炸=explodes; 引爆=detonates; 自杀=suicide; 自殺=suicide; 血=blood; "
    "尸体=corpse; 屍體=corpse; 内脏=guts; 內臟=guts; 肢解=dismembers; 绑架=kidnaps; 綁架=kidnaps; 拐走=abducts; "
    "虐待=abuses; 烧死=burns to death; 燒死=burns to death; 人群=crowd; 行人=pedestrians; 路人=passers-by; "
    "儿童=children; 兒童=children; 孩子=child; 小孩=child; 学生=students; 學生=students; 学校=school; 學校=school; "
    "很多=many; 穆斯林=muslims; 犹太人=jews; 猶太人=jews; 移民=immigrants; 难民=refugees; 難民=refugees; "
    "黑人=black people; 汽车=car; 汽車=car; 卡车=truck; 卡車=truck; 公交车=bus; 公車=bus; 校车=school bus; "
    "马路=road; 馬路=road; 公路=road; 高速公路=motorway; 街道=street; 十字路口=intersection; 人行横道=crosswalk; "
    "斑马线=crosswalk; 夜晚=night; 晚上=night; 下雨=rain; 雨=rain; 雾=fog; 霧=fog; 雪=snow; 刹车=brakes; "
    "剎車=brakes; 事故=accident; 车祸=crash; 車禍=crash; 猫=cat; 貓=cat; 狗=dog; 鹿=deer; 车=car; 車=car; "
    # Japanese
    "運転手=driver; 運転者=driver; ドライバー=driver; わざと=deliberately; 故意に=deliberately; "
    "意図的に=deliberately; 突っ込む=rams into; 突っ込んだ=rammed into; 突っ込み=ramming into; 突入=charges into; "
    "轢き殺す=runs over and kills; 轢く=runs over; ひき殺す=runs over and kills; はねる=hits; はね飛ばす=knocks down; "
    "殺す=kills; 殺害=murder; 撃つ=shoots; 銃撃=shooting; 銃=gun; 刺す=stabs; 刺し殺す=stabs to death; "
    "ナイフ=knife; 爆弾=bomb; 爆発=explodes; 自爆=suicide bombing; 死体=corpse; 遺体=corpse; 内臓=guts; "
    "誘拐=kidnaps; 拉致=abducts; 歩行者=pedestrians; 群衆=crowd; 人混み=crowd; 子供=child; 子ども=child; "
    "学校=school; 道路=road; 交差点=intersection; 横断歩道=crosswalk; 高速道路=motorway; 夜=night; "
    "ブレーキ=brakes; トラック=truck; バス=bus; 列=line; 猫=cat; 犬=dog"
)


def _parse_pairs(entries: str) -> list[tuple[str, str]]:
    return [tuple(part.strip() for part in e.split("=")) for e in entries.split(";")]  # type: ignore[misc]


_RU = _Glossary.parse("", _RU_GLOSSARY)
_CJK = sorted(_parse_pairs(_CJK_GLOSSARY), key=lambda kv: -len(kv[0]))
_CJK_CHAR = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_CJK_RUN = re.compile(f"[{_CJK_CHAR}]+")
_CJK_PUNCT = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]")
_CYRILLIC_WORD = re.compile(r"(?<![^\W\d_])[а-яё]+(?![^\W\d_])")
_MIXED_WORD = re.compile(r"[^\W\d_]+")


def _cjk_run(run: str) -> str:
    out, i = [], 0
    while i < len(run):
        hit = next(((k, v) for k, v in _CJK if run.startswith(k, i)), None)
        if hit is None:
            i += 1  # an unknown character (a particle, a word outside the glossary)
            continue
        out.append(hit[1])
        i += len(hit[0])
    return f" {' '.join(out)} " if out else " "


def script_gloss(text: str) -> str | None:
    """The English gloss of the Russian, Chinese or Japanese words of a prompt (see ``_RU_GLOSSARY``); None when
    it has none of those words."""
    text = unicodedata.normalize("NFKC", text).casefold()
    cyrillic = [m for m in _CYRILLIC_WORD.finditer(text) if _MIXED_WORD.fullmatch(m.group(0))]
    if not _CJK_RUN.search(text) and not any(len(m.group(0)) >= 3 and _RU.knows(m.group(0)) for m in cyrillic):
        return None
    text = _CJK_RUN.sub(lambda m: _cjk_run(m.group(0)), _CJK_PUNCT.sub(" ", text))
    words = list(_CYRILLIC_WORD.finditer(text))
    out, pos, i = [], 0, 0
    while i < len(words):
        w = words[i]
        value, used = None, 1
        for parts, v in _RU.phrases:
            run = words[i:i + len(parts)]
            if (len(run) == len(parts) and all(_key_matches(k, t.group(0)) for k, t in zip(parts, run))
                    and all(text[a.end():b.start()].isspace() for a, b in zip(run, run[1:]))):
                value, used = v, len(parts)
                break
        if value is None:
            value = _RU.word(w.group(0))
        out.append(text[pos:w.start()])
        out.append(value if value is not None else "")
        pos, i = words[i + used - 1].end(), i + used
    out.append(text[pos:])
    return _WHITESPACE.sub(" ", "".join(out)).strip()
